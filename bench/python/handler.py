def handle(event, context):
    """The python group's function (bench/run): echoes the request body, as the other groups'
    echo functions do, so that what is measured is the path to the handler and back."""
    return {
        "statusCode": 200,
        "body": event.body,
        "headers": {"Content-Type": "application/octet-stream"},
    }
