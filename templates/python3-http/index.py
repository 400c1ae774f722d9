"""The python3-http template's server: a Flask app on waitress, warm between requests, that
hands each request to function/handler.py as an event and turns the handler's answer into the
response. The watchdog (mode=http) proxies to it."""

import os

from flask import Flask, request
from waitress import serve

from function import handler

app = Flask(__name__)


class Event:
    def __init__(self):
        self.body = request.get_data()
        self.headers = request.headers
        self.method = request.method
        self.query = request.args
        self.path = request.path


class Context:
    def __init__(self):
        self.hostname = os.getenv("HOSTNAME", "localhost")


def answer(result):
    """The handler's answer as Flask's: None is an empty 200, a str or bytes the body of a 200,
    a dict has the body (str, bytes, or a dict or list sent as JSON), statusCode and headers."""
    if result is None:
        return "", 200
    if isinstance(result, (str, bytes)):
        return result, 200
    if not isinstance(result, dict):
        raise TypeError(f"the handler returned a {type(result).__name__}, not a dict, str or bytes")
    return (result.get("body", ""), result.get("statusCode", 200), result.get("headers") or {})


# The watchdog asks ready_path before it reports itself ready.
@app.route("/_/ready", methods=["GET"])
def ready():
    return "OK", 200


@app.route("/", defaults={"path": ""}, methods=["GET", "PUT", "POST", "PATCH", "DELETE"])
@app.route("/<path:path>", methods=["GET", "PUT", "POST", "PATCH", "DELETE"])
def call_handler(path):
    return answer(handler.handle(Event(), Context()))


if __name__ == "__main__":
    serve(app, host="127.0.0.1", port=int(os.getenv("http_port", "5000")))
