def handle(event, context):
    """Answers each request; `event` has body (bytes), headers, method, query and path."""
    name = event.body.decode() or "world"
    return {
        "statusCode": 200,
        "body": f"Hello, {name}, from {event.method} {event.path}\n",
        "headers": {"Content-Type": "text/plain"},
    }
