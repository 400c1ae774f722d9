"""Hostile framings (framing_cases.py) sent as raw bytes: each gets a clear answer, the
connection closes cleanly, nothing reaches a function or an upstream that could read the
request differently, and the watchdog logs the refusal.

The server-level table runs against the test-only echo server with `?len=known`, which answers
only after the whole body (so a body refused mid-way has no response started yet). The
watchdog-level tests use streaming mode with a function that marks each start, and http mode
with a recording upstream that checks every byte it receives for one clean framing.
"""

import os
import re
import select
import socket
import threading
import time

import pytest

import harness
from harness import RawConnection
from framing_cases import ACCEPTED, REFUSAL_TEXT, REFUSED, oversized_trailers
from test_http_protocol import echo, summary  # noqa: F401  (the echo fixture)

STATUS_TEXT = {400: b"400 Bad Request", 431: b"431 Request Header Fields Too Large",
               501: b"501 Not Implemented"}


def refusal_bytes(status, name=None):
    text = REFUSAL_TEXT.get(name) or STATUS_TEXT[status]
    return (b"HTTP/1.1 " + text + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\n\r\n" + text)


def with_target(raw, target):
    """The same request with another request-target (the echo server's switches)."""
    method, _, rest = raw.partition(b" ")
    _, _, after = rest.partition(b" ")
    return method + b" " + target + b" " + after


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_server_refuses_with_a_clear_answer_and_closes(echo, name):
    raw, status, _ = REFUSED[name]
    srv = echo()
    c = RawConnection(srv.port)
    c.send(raw if name in REFUSAL_TEXT else with_target(raw, b"/?len=known"))
    assert c.read_until_closed() == refusal_bytes(status, name)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_server_serves_the_same_shapes_done_right(echo, name):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(with_target(ACCEPTED[name], b"/?len=known"))
    resp = c.read_response()
    assert resp.status == 200
    assert summary(resp)[1] == b"abc"
    # The connection is still usable: nothing of the request was left unread.
    c.send(b"GET /?len=known HTTP/1.1\r\nHost: t\r\n\r\n")
    assert c.read_response().status == 200


def test_oversized_trailer_section_gets_431(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(with_target(oversized_trailers(), b"/?len=known"))
    assert c.read_until_closed() == refusal_bytes(431)


def test_a_body_refused_after_the_response_started_is_cut(echo):
    # Without len=known the echo server sends its head at once: no 400 can follow it, and the
    # response (if any of it went out) stops short.
    srv = echo()
    c = RawConnection(srv.port)
    c.send(REFUSED["chunk_size_plus"][0])
    data = c.read_until_closed()
    assert b"400" not in data and not data.endswith(b"0\r\n\r\n")
    srv.wait_for(r"cancelled: malformed request body")


# --- fork modes: the function is never started for a refused head, and killed for a refused
# body ---------------------------------------------------------------------------------------

def started_count(folder):
    return len([n for n in os.listdir(folder) if n.startswith("started.")])


@pytest.fixture
def marking_function(start_watchdog, tmp_path):
    folder = tmp_path / "starts"
    folder.mkdir()
    wd = start_watchdog({"fprocess": f"{harness.fixture('mark_then_cat.sh')} {folder}",
                         "mode": "streaming"})
    return wd, str(folder)


@pytest.mark.parametrize("name", sorted(n for n, c in REFUSED.items() if c[2] == "head"))
def test_streaming_never_starts_the_function_for_a_refused_head(marking_function, name):
    wd, folder = marking_function
    raw, status, _ = REFUSED[name]
    c = RawConnection(wd.port)
    c.send(raw)
    assert c.read_until_closed() == refusal_bytes(status, name)
    wd.wait_for_log(r"Refused a request from 127\.0\.0\.1:\d+: " + str(status))
    # A normal request afterwards starts the function once: the refused one never did.
    assert harness.request(wd.port, "POST", "/", body=b"ok").body == b"ok"
    assert started_count(folder) == 1


@pytest.mark.parametrize("name", ["chunk_size_plus", "chunk_size_0x", "chunk_size_2_63",
                                  "chunk_bare_lf_everywhere", "chunk_extension_20k",
                                  "trailer_obs_fold", "last_chunk_bare_lf_end"])
def test_streaming_answers_400_for_a_refused_body_and_kills_the_function(marking_function, name):
    wd, folder = marking_function
    raw, status, _ = REFUSED[name]
    c = RawConnection(wd.port)
    c.send(raw)
    data = c.read_until_closed()
    # cat may have echoed `abc` already for the trailer cases: then the response is cut short.
    assert data == refusal_bytes(400) or (data.startswith(b"HTTP/1.1 200 OK\r\n")
                                           and not data.endswith(b"0\r\n\r\n")), data
    wd.wait_for_log(r"Refused a request from 127\.0\.0\.1:\d+: 400 Bad Request \(")
    assert harness.request(wd.port, "POST", "/", body=b"ok").body == b"ok"


def test_headers_too_long_for_the_environment_get_431_before_forking(marking_function):
    wd, folder = marking_function
    # 200 KiB fits the 1 MiB head limit but not one environment variable (128 KiB).
    resp = harness.request(wd.port, "POST", "/", headers={"X-Big": "b" * 200 * 1024}, body=b"x")
    assert resp.status == 431
    assert resp.header("Content-Type") == "text/plain; charset=utf-8"
    assert b"Http_X_Big" in resp.body and b"131071" in resp.body
    assert started_count(folder) == 0
    wd.wait_for_log(r"POST / - 431 - ")


def test_headers_too_many_for_the_environment_get_431(start_watchdog):
    # With a 1 MiB stack limit execve takes at most 256 KiB of arguments and environment
    # (a quarter of it), so 300 KB of headers, each fine on its own, cannot all go through.
    wd = start_watchdog({"fprocess": "cat", "mode": "serializing"}, binary="/usr/bin/prlimit",
                        args=("--stack=1048576:1048576", harness.BIN))
    headers = {f"X-H{i}": "v" * 60000 for i in range(5)}
    resp = harness.request(wd.port, "POST", "/", headers=headers, body=b"x")
    assert resp.status == 431
    assert b"the environment would be" in resp.body and b"at most 262144" in resp.body
    # Fewer of them fit, and are served.
    resp = harness.request(wd.port, "POST", "/", headers={"X-H": "v" * 60000}, body=b"x")
    assert resp.status == 200 and resp.body == b"x"


# --- http mode: the upstream sees one clean framing or nothing ---------------------------------

class RecordingUpstream:
    """A raw upstream on loopback. It records every byte each connection brings, answers each
    complete request (read by a strict parser) with `200 ok`, and notes when the watchdog
    closes a connection."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Condition()
        self.connections = []  # [bytearray received, closed by peer, requests answered]
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        socks = {}
        while not self.stop:
            r, _, _ = select.select([self.listener, *socks], [], [], 0.05)
            for s in r:
                if s is self.listener:
                    conn, _ = self.listener.accept()
                    with self.lock:
                        record = [bytearray(), False, 0]
                        self.connections.append(record)
                    socks[conn] = record
                    continue
                record = socks[s]
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    data = b""
                with self.lock:
                    if not data:
                        record[1] = True
                        s.close()
                        del socks[s]
                    else:
                        record[0] += data
                        complete, _ = clean_requests(bytes(record[0]))
                        while record[2] < len(complete):
                            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            record[2] += 1
                    self.lock.notify_all()
        for s in socks:
            s.close()

    def snapshot(self):
        with self.lock:
            return [(bytes(r[0]), r[1]) for r in self.connections]

    def wait(self, predicate, timeout=harness.DEFAULT_WAIT):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate([(bytes(r[0]), r[1]) for r in self.connections]):
                left = deadline - time.monotonic()
                assert left > 0, f"upstream condition not met: {self.connections}"
                self.lock.wait(left)

    def close(self):
        self.stop = True
        self.thread.join(harness.DEFAULT_WAIT)
        self.listener.close()


TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def clean_requests(data):
    """Splits what one upstream connection received into complete requests. Fails the test at
    the first byte that is not one clean framing: CRLF line ends only, token names, no CR, LF
    or NUL in values, exactly one of a single decimal Content-Length or `chunked`, plain hex
    chunk sizes. Returns (complete requests as (head, body)), bytes of an unfinished one)."""
    requests = []
    pos = 0
    while pos < len(data):
        start = pos
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            assert b"\n" not in data[pos:].replace(b"\r\n", b""), data[pos:]
            return requests, data[pos:]
        head = data[pos:end]
        lines = head.split(b"\r\n")
        assert re.match(rb"^[A-Z]+ \S+ HTTP/1\.1$", lines[0]), lines[0]
        lengths, codings = [], []
        for line in lines[1:]:
            assert b"\r" not in line and b"\n" not in line and b"\x00" not in line, line
            name, sep, value = line.partition(b":")
            assert sep and TOKEN.match(name), line
            if name.lower() == b"content-length":
                lengths.append(value.strip())
            if name.lower() == b"transfer-encoding":
                codings.append(value.strip())
        assert not (lengths and codings), head
        assert len(lengths) <= 1 and len(codings) <= 1, head
        pos = end + 4
        if lengths:
            assert lengths[0].isdigit(), head
            n = int(lengths[0])
            if len(data) - pos < n:
                return requests, data[start:]
            requests.append((head, data[pos:pos + n]))
            pos += n
        elif codings:
            assert codings[0].lower() == b"chunked", head
            body = b""
            while True:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    return requests, data[start:]
                size_text = data[pos:eol]
                assert re.match(rb"^[0-9a-fA-F]+$", size_text), size_text
                size = int(size_text, 16)
                if len(data) < eol + 2 + size + 2:
                    return requests, data[start:]
                chunk_end = eol + 2 + size
                assert data[chunk_end:chunk_end + 2] == b"\r\n", data[chunk_end:chunk_end + 2]
                body += data[eol + 2:chunk_end]
                pos = chunk_end + 2
                if size == 0:
                    break
            requests.append((head, body))
        else:
            requests.append((head, b""))
    return requests, b""


@pytest.fixture
def proxied(start_watchdog):
    upstream = RecordingUpstream()
    wd = start_watchdog({"mode": "http", "fprocess": "sleep 600",
                         "upstream_url": f"http://127.0.0.1:{upstream.port}"})
    yield wd, upstream
    upstream.close()


def sentinel(wd):
    """A normal request through the proxy, answered by the upstream: everything the refused
    request could have sent upstream has arrived before it."""
    resp = harness.request(wd.port, "GET", "/sentinel")
    assert resp.status == 200 and resp.body == b"ok"


def new_bytes(before, after):
    """What each connection received since `before` (a snapshot)."""
    out = []
    for i, (data, closed) in enumerate(after):
        old = before[i][0] if i < len(before) else b""
        out.append((data[len(old):], data, closed))
    return out


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_http_mode_upstream_sees_one_clean_framing_or_nothing(proxied, name):
    wd, upstream = proxied
    sentinel(wd)  # a pooled connection exists, as in steady traffic
    raw, status, where = REFUSED[name]
    before = upstream.snapshot()
    c = RawConnection(wd.port)
    c.send(raw)
    assert c.read_until_closed() == refusal_bytes(status, name)
    assert 400 <= status < 500 or name.startswith("te_") or name.startswith("connect")
    sentinel(wd)
    after = upstream.snapshot()
    targets = []
    for fresh, whole, _ in new_bytes(before, after):
        # Each connection was idle at the snapshot, so its new bytes start a request.
        complete, unfinished = clean_requests(fresh)
        targets += [head.split(b" ")[1] for head, _ in complete]
        if unfinished:
            # A body refused mid-way: its head (and maybe a clean part of the body) went up,
            # then the watchdog closed that connection without finishing the request.
            assert where == "body", (name, unfinished)
            upstream.wait(lambda conns, d=whole: any(c[0] == d and c[1] for c in conns))
    assert targets == [b"/sentinel"], (name, targets)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_http_mode_forwards_the_accepted_shapes_cleanly(proxied, name):
    wd, upstream = proxied
    before = upstream.snapshot()
    c = RawConnection(wd.port)
    c.send(ACCEPTED[name])
    resp = c.read_response()
    assert resp.status == 200 and resp.body == b"ok"
    bodies = []
    for fresh, whole, _ in new_bytes(before, upstream.snapshot()):
        complete, unfinished = clean_requests(fresh)
        assert not unfinished
        bodies += [b for _, b in complete]
    assert bodies == [b"abc"]


def test_http_mode_forwards_a_get_body_with_its_length(proxied):
    wd, upstream = proxied
    before = upstream.snapshot()
    c = RawConnection(wd.port)
    c.send(b"GET /g HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
    assert c.read_response().status == 200
    requests = []
    for fresh, _, _ in new_bytes(before, upstream.snapshot()):
        requests += clean_requests(fresh)[0]
    assert len(requests) == 1
    head, body = requests[0]
    assert head.startswith(b"GET /g HTTP/1.1\r\n") and body == b"abc"


# --- the absolute form of a request-target names the host --------------------------------------

def test_http_mode_takes_the_host_of_an_absolute_form_target(proxied):
    wd, upstream = proxied
    before = upstream.snapshot()
    c = RawConnection(wd.port)
    c.send(b"GET http://a.example/abs?x=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    resp = c.read_response()
    assert resp.status == 200 and resp.body == b"ok"
    heads = []
    for fresh, _, _ in new_bytes(before, upstream.snapshot()):
        heads += [head for head, _ in clean_requests(fresh)[0]]
    assert len(heads) == 1
    lines = heads[0].split(b"\r\n")
    assert lines[0] == b"GET /abs?x=1 HTTP/1.1"
    assert b"Host: a.example" in lines and b"Host: t" not in lines
    assert b"X-Forwarded-Host: a.example" in lines


def test_fork_modes_take_the_host_of_an_absolute_form_target(start_watchdog):
    wd = start_watchdog({"fprocess": "env", "mode": "serializing"})
    c = RawConnection(wd.port)
    c.send(b"GET http://a.example:81/abs?x=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    resp = c.read_response()
    assert resp.status == 200
    env = resp.body.decode().splitlines()
    assert "Http_Host=a.example:81" in env
    assert "Http_Path=/abs" in env
    assert "Http_Query=x=1" in env
