import os


def handle(body):
    """The request body in (bytes), the response body out."""
    method = os.getenv("Http_Method", "")
    return f"{method} {len(body)} bytes: {body.decode(errors='replace').upper()}\n"
