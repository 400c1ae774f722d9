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
    if not isinstance(result, dict):
        return str(result), 200
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
