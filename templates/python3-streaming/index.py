"""The python3-streaming template's entry point: the request body on stdin goes to
function/handler.py, whose answer is the response body on stdout. The watchdog sets the
request's method, path, query and headers as Http_* variables."""

import sys

from function import handler

if __name__ == "__main__":
    answer = handler.handle(sys.stdin.buffer.read())
    if answer is not None:
        sys.stdout.buffer.write(answer if isinstance(answer, bytes) else str(answer).encode())
