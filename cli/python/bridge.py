"""The Python half of fwatchdog-python (docs/python.md): it loads the handler, builds the
python3-http template's `event` and `context` for each call, and turns the handler's answer into
a status, header lines and a body, or into the reason it is not a valid answer.

The launcher compiles this file into its program and runs it as the module `_ofwatchdog_bridge`;
the native module `_ofwatchdog` it imports is the launcher's own (cli/python/native_module.cpp).
Everything here runs with the GIL held, on the worker thread of the call.
"""

import importlib
import io
import json
import os
import sys
import threading
import traceback
from urllib.parse import parse_qsl

import _ofwatchdog


class BadRequestKeyError(KeyError):
    """A key the request does not have, read with `[]`: the handler's client gets 400, as it
    does from Flask, whose request objects the python3-http template hands to handlers."""


class _MultiDict:
    """Keys in arrival order, each with one or more values; `[]` and `get` give the first."""

    def __init__(self, pairs, fold):
        self._fold = fold
        self._pairs = pairs
        self._index = {}
        for name, value in pairs:
            self._index.setdefault(fold(name), []).append(value)

    def __getitem__(self, key):
        values = self._index.get(self._fold(key))
        if not values:
            raise BadRequestKeyError(key)
        return values[0]

    def get(self, key, default=None, type=None):
        values = self._index.get(self._fold(key))
        if not values:
            return default
        if type is None:
            return values[0]
        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    def getlist(self, key, type=None):
        values = self._index.get(self._fold(key), [])
        if type is None:
            return list(values)
        converted = []
        for value in values:
            try:
                converted.append(type(value))
            except (ValueError, TypeError):
                pass
        return converted

    def __contains__(self, key):
        return isinstance(key, str) and self._fold(key) in self._index

    def __len__(self):
        return len(self._index)

    def __bool__(self):
        return bool(self._pairs)

    def _first_names(self):
        seen = {}
        for name, _ in self._pairs:
            seen.setdefault(self._fold(name), name)
        return seen

    def keys(self):
        return list(self._first_names().values())

    def values(self):
        return [self._index[key][0] for key in self._first_names()]

    def items(self, multi=False):
        if multi:
            return list(self._pairs)
        return [(name, self._index[key][0]) for key, name in self._first_names().items()]

    def lists(self):
        return [(name, list(self._index[key])) for key, name in self._first_names().items()]

    def to_dict(self, flat=True):
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def __eq__(self, other):
        if isinstance(other, _MultiDict):
            return self._pairs == other._pairs
        if isinstance(other, dict):
            return self.to_dict() == other
        return NotImplemented

    def __repr__(self):
        return f"{type(self).__name__}({self._pairs!r})"


class Query(_MultiDict):
    """`event.query`: the query string's fields, decoded as UTF-8 (`+` is a space); iterating
    gives the names, as Flask's `request.args` does."""

    def __init__(self, raw):
        super().__init__(parse_qsl(raw, keep_blank_values=True, errors="replace"), lambda k: k)

    def __iter__(self):
        return iter(self.keys())


def _header_name(name):
    # The spelling Flask gives a request header (from its WSGI variable): "x-name" is "X-Name".
    return name.replace("_", "-").title()


class Headers(_MultiDict):
    """`event.headers`: names compared without case, values decoded as Latin-1 as WSGI does;
    a repeated header is one value joined with ", ". Iterating gives (name, value) pairs."""

    def __init__(self, raw_pairs):
        joined = {}
        order = []
        for name, value in raw_pairs:
            key = name.lower()
            if key in joined:
                joined[key][1].append(value)
            else:
                joined[key] = (_header_name(name), [value])
                order.append(key)
        pairs = [(joined[k][0], ", ".join(joined[k][1])) for k in order]
        super().__init__(pairs, str.lower)

    def __iter__(self):
        return iter(self.items())


class Event:
    """What the python3-http template gives `handle` as `event`. The headers and the query are
    parsed when the handler first reads them: a handler that reads neither pays for neither."""

    __slots__ = ("body", "method", "path", "_raw_query", "_raw_headers", "_query", "_headers")

    def __init__(self, method, path, raw_query, headers, body):
        self.body = body
        self.method = method
        self.path = path
        self._raw_query = raw_query
        self._raw_headers = headers
        self._query = None
        self._headers = None

    @property
    def headers(self):
        if self._headers is None:
            self._headers = Headers(self._raw_headers)
        return self._headers

    @property
    def query(self):
        if self._query is None:
            self._query = Query(self._raw_query)
        return self._query


# The container's name does not change while it runs.
_HOSTNAME = os.getenv("HOSTNAME", "localhost")


class Context:
    """What the python3-http template gives `handle` as `context` (`hostname`), and what only
    an in-process call can tell: its id, the time it has left and whether it should stop."""

    __slots__ = ("hostname", "_call")

    def __init__(self, call):
        self.hostname = _HOSTNAME
        self._call = call

    @property
    def call_id(self):
        """The request's X-Call-Id, "" when it has none."""
        return self._call.call_id

    def time_left(self):
        """Seconds before exec_timeout ends the call, or None when no timeout applies."""
        return self._call.time_left()

    def stop_requested(self):
        """True once the call's answer will be dropped: the deadline passed, the client left,
        or the watchdog is stopping. A long handler should look and return."""
        return self._call.stop_requested()


class _LogStream(io.TextIOBase):
    """sys.stdout and sys.stderr: each whole line a thread writes goes to the watchdog's log as
    a line of the function's output, as a forked function's would. Lines are gathered per
    thread, so that two handlers printing at once never mix within a line."""

    def __init__(self, name):
        super().__init__()
        self._name = name
        self._partial = threading.local()

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "replace"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        held = self._partial.__dict__.get("text", "") + text
        *lines, rest = held.split("\n")
        for line in lines:
            _ofwatchdog.relay(self._name, line)
        self._partial.text = rest
        return len(text)

    def flush(self):
        pass

    def close_thread(self):
        """Writes out what this thread left without a line end."""
        rest = self._partial.__dict__.get("text")
        if rest:
            self._partial.text = ""
            _ofwatchdog.relay(self._name, rest)


_stdout = _LogStream("stdout")
_stderr = _LogStream("stderr")


def route_output():
    """Sends print() and tracebacks to the watchdog's log."""
    sys.stdout = _stdout
    sys.stderr = _stderr


def end_thread_output():
    _stdout.close_thread()
    _stderr.close_thread()


class Invalid(Exception):
    """The handler's answer is not one the watchdog can send; the message says why."""


_OWNED = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
          "trailer", "te", "proxy-connection"}


def _field_text(what, value):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Invalid(f"{what} is a {type(value).__name__}, not a str")
    text = str(value)
    if "\r" in text or "\n" in text or "\0" in text:
        raise Invalid(f"{what} has a CR, LF or NUL in it")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise Invalid(f"{what} is not Latin-1 text") from None


def _header_lines(headers):
    if headers is None:
        return []
    if isinstance(headers, dict):
        pairs = headers.items()
    elif isinstance(headers, (list, tuple)):
        pairs = headers
    else:
        raise Invalid(f"headers is a {type(headers).__name__}, not a dict or a list of pairs")
    lines = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Invalid(f"header {pair!r} is not a (name, value) pair")
        name, value = pair
        if not isinstance(name, str) or not name:
            raise Invalid(f"header name {name!r} is not a non-empty str")
        encoded_name = _field_text(f"header name {name!r}", name)
        if name.lower() in _OWNED:
            raise Invalid(f"header {name} is the watchdog's to set")
        lines.append((encoded_name, _field_text(f"the value of header {name}", value)))
    return lines


def _json_body(value):
    # As Flask's jsonify: compact, keys sorted, ASCII, a line end.
    return (json.dumps(value, separators=(",", ":"), sort_keys=True) + "\n").encode()


def _has(lines, name):
    return any(n.lower() == name for n, _ in lines)


def answer(result):
    """(status, [(name, value)], body) with bytes for text, from what `handle` returned."""
    if result is None:
        return 200, [(b"Content-Type", b"text/html; charset=utf-8")], b""
    if isinstance(result, (str, bytes, bytearray)):
        result = {"body": result}
    elif not isinstance(result, dict):
        raise Invalid(f"the handler returned a {type(result).__name__}, not a dict, str or bytes")
    status = result.get("statusCode", 200)
    if isinstance(status, bool) or not isinstance(status, int):
        raise Invalid(f"statusCode is a {type(status).__name__}, not an int")
    if not 100 <= status <= 599:
        raise Invalid(f"statusCode {status} is outside 100-599")
    lines = _header_lines(result.get("headers"))
    body = result.get("body", "")
    content_type = b"text/html; charset=utf-8"
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body)
    elif isinstance(body, (dict, list)):
        try:
            body = _json_body(body)
        except (TypeError, ValueError) as e:
            raise Invalid(f"body is a {type(body).__name__} that is not JSON: {e}") from None
        content_type = b"application/json"
    else:
        raise Invalid(f"body is a {type(body).__name__}, not bytes or str")
    if not _has(lines, b"content-type"):
        lines.append((b"Content-Type", content_type))
    return status, lines, body


def load(spec, directory):
    """The handler named by `spec` ("module:function", the function "handle" when left out),
    imported with `directory` first on sys.path, as `python3 index.py` run there would."""
    module_name, _, function_name = spec.partition(":")
    if not module_name:
        raise ValueError(f"fprocess {spec!r} names no module (expected module:function)")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module = importlib.import_module(module_name)
    handle = getattr(module, function_name or "handle", None)
    if not callable(handle):
        raise AttributeError(f"{module_name} has no function {function_name or 'handle'}")

    def serve(call, method, path, raw_query, headers, body):
        """A call's answer as (status, header lines, body), or a str saying why there is none
        (the traceback, if any, is in the log already)."""
        try:
            try:
                result = handle(Event(method, path, raw_query, headers, body), Context(call))
            except BadRequestKeyError as e:
                return 400, [(b"Content-Type", b"text/plain; charset=utf-8")], \
                    f"Bad Request: the request has no {e.args[0]!r}\n".encode()
            except BaseException as e:  # SystemExit too: a handler never stops the watchdog
                traceback.print_exc()
                return f"the handler raised {type(e).__name__}: {e}"
            try:
                return answer(result)
            except Invalid as e:
                return f"the handler's answer is not valid: {e}"
        finally:
            end_thread_output()

    return serve


def start(spec, directory):
    """`load`, or, when the handler cannot be imported, what went wrong as a str, with the
    traceback in the log."""
    try:
        return load(spec, directory)
    except BaseException as e:  # SystemExit at import time too
        traceback.print_exc()
        return f"{type(e).__name__}: {e}"
