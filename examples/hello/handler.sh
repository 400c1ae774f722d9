#!/bin/sh
# A streaming-mode function: the request body arrives on stdin, the response is stdout, and
# the request's method, path and headers arrive as Http_* environment variables.
echo "Hello from ofwatchdog: ${Http_Method:-?} ${Http_Path:-/}${Http_Query:+?$Http_Query}"
echo "You sent:"
cat
