"""http mode: a keep-alive reverse proxy to a function server the watchdog starts itself.

The upstream fixtures take their port as an argument. The test picks a free port by binding a
socket to port 0 and closing it (a tiny race with other processes, accepted), passes it both in
`fprocess` and in `upstream_url`, and waits for the fixture's `listening on` line, relayed on the
watchdog's stdout. The watchdog therefore owns the upstream's lifetime, which is what the tests of
the child's death and of the drain need.
"""

import base64
import hashlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

PY = "/usr/bin/python3"


def start_http(start_watchdog, env=None, fixture="http_upstream.py",
               ready=(r"listening on \d+", "stdout")):
    port = harness.free_port()
    base = {
        "mode": "http",
        "fprocess": f"{PY} {harness.fixture(fixture)} {port}",
        "upstream_url": f"http://127.0.0.1:{port}",
    }
    base.update(env or {})
    wd = start_watchdog(base)
    wd.wait_for_log(ready[0], stream=ready[1])
    return wd


def echo(resp):
    assert resp.status < 300 or resp.header("X-Upstream") == "yes", resp
    return json.loads(resp.body)


def headers_of(doc):
    return {k.lower(): v for k, v in doc["headers"]}


def test_forwards_method_path_query_headers_and_body(start_watchdog):
    wd = start_http(start_watchdog)
    resp = harness.request(
        wd.port, "PUT", "/echo/a%20b?x=1&y=%2F",
        headers={"Host": "fn.example:8080", "X-Custom": "kept", "Keep-Alive": "timeout=5",
                 "Connection": "close, X-Secret", "X-Secret": "dropped", "TE": "trailers",
                 "Proxy-Authorization": "Basic eA==", "X-Forwarded-For": "10.0.0.1",
                 "Accept-Encoding": "gzip"},
        body=b"payload")
    assert resp.status == 200
    assert resp.header("X-Duration-Seconds") is not None
    doc = echo(resp)
    assert doc["method"] == "PUT"
    assert doc["target"] == "/echo/a%20b?x=1&y=%2F"
    assert doc["body"] == "payload"
    h = headers_of(doc)
    assert h["host"] == "fn.example:8080"
    assert h["x-custom"] == "kept"
    assert h["content-length"] == "7"
    assert h["te"] == "trailers"
    assert h["accept-encoding"] == "gzip"
    assert h["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert h["x-forwarded-host"] == "fn.example:8080"
    assert h["x-forwarded-proto"] == "http"
    for gone in ("keep-alive", "x-secret", "proxy-authorization", "connection"):
        assert gone not in h, gone
    wd.wait_for_log(r"PUT /echo/a%20b\?x=1&y=%2F - 200 OK - ContentLength: \d+B \(\d+\.\d{4}s\)")


def test_custom_status_and_upstream_headers(start_watchdog):
    wd = start_http(start_watchdog, {"log_callid": "true"})
    resp = harness.request(wd.port, "GET", "/echo?status=418&reason=Short",
                           headers={"X-Call-Id": "abc-123"})
    assert resp.status == 418
    assert resp.header("X-Upstream") == "yes"
    assert resp.header("Server").startswith("BaseHTTP")
    wd.wait_for_log(r"GET /echo\?status=418&reason=Short - 418 Short - ContentLength: \d+B "
                    r"\(\d+\.\d{4}s\) \[abc-123\]")
    # Content-Encoding passes through untouched (docs/decisions.md, proxy-compression).
    resp = harness.request(wd.port, "GET", "/gzip")
    assert resp.header("Content-Encoding") == "gzip"
    assert resp.body[:2] == b"\x1f\x8b"


def test_chunked_upload_and_chunked_response(start_watchdog):
    wd = start_http(start_watchdog)
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    resp = harness.request(wd.port, "POST", "/echo",
                           headers={"Transfer-Encoding": "chunked"}, body=body)
    doc = echo(resp)
    assert doc["body"] == "hello world"
    assert headers_of(doc)["transfer-encoding"] == "chunked"
    resp = harness.request(wd.port, "GET", "/chunked")
    assert resp.header("Transfer-Encoding") == "chunked"
    assert resp.body == b"alpha beta gamma"
    wd.wait_for_log(r"GET /chunked - 200 OK - ContentLength: -1B")


def dechunk(data):
    out = bytearray()
    pos = 0
    while True:
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end], 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2:end + 2 + size]
        pos = end + 2 + size + 2


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_large_response_to_a_slow_client_in_bounded_memory(start_watchdog, chunked):
    """32 MiB through the proxy to a client that reads slowly: the body arrives whole and in
    order (written through or queued, framed when chunked), and the watchdog's peak RSS grows
    by a few MiB at most, because the upstream is not read while the client is behind."""
    wd = start_http(start_watchdog)
    size = 32 << 20
    before = wd.rss_kib(peak=True)
    sock = socket.create_connection(("127.0.0.1", wd.port), timeout=harness.DEFAULT_WAIT)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(f"GET /big?mb=32&chunked={chunked} HTTP/1.1\r\nHost: x\r\n"
                 "Connection: close\r\n\r\n".encode())
    data = bytearray()
    deadline = time.monotonic() + harness.DEFAULT_WAIT * 4
    while time.monotonic() < deadline:
        # Pacing, not synchronisation: a reader slower than the upstream can write.
        select.select([], [], [], 0.002)
        piece = sock.recv(64 * 1024)
        if not piece:
            break
        data += piece
    sock.close()
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    if chunked == "1":
        assert b"Transfer-Encoding: chunked" in head
        body = dechunk(body)
    assert len(body) == size
    assert body == (bytes(range(256)) * 1024) * (size // (256 * 1024))
    assert harness.SANITIZED or wd.rss_kib(peak=True) - before < 8 * 1024


def test_buffered_body_is_sent_with_content_length(start_watchdog):
    wd = start_http(start_watchdog, {"http_buffer_req_body": "true"})
    body = b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
    resp = harness.request(wd.port, "POST", "/echo",
                           headers={"Transfer-Encoding": "chunked"}, body=body)
    doc = echo(resp)
    h = headers_of(doc)
    assert doc["body"] == "abcdefg"
    assert h["content-length"] == "7"
    assert "transfer-encoding" not in h


def test_sse_event_arrives_before_the_upstream_finishes(start_watchdog, tmp_path):
    wd = start_http(start_watchdog, {"exec_timeout": "1s"})
    marker = tmp_path / "second-event"
    c = harness.RawConnection(wd.port)
    try:
        c.send(f"GET /sse?marker={marker} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
               "\r\n".encode())
        c.wait_for_bytes(b"data: one", timeout=5)
        assert b"data: two" not in c.buf
        # The stream outlives exec_timeout (1s): a stream is bounded only until its headers.
        # A plain request timing out marks that the second has passed.
        assert harness.request(wd.port, "GET", "/slow?ms=1500").status == 504
        marker.write_text("go")
        c.wait_for_bytes(b"data: two", timeout=5)
    finally:
        c.close()


def test_ndjson_lines_stream(start_watchdog):
    wd = start_http(start_watchdog)
    resp = harness.request(wd.port, "GET", "/ndjson")
    assert resp.header("Content-Type") == "application/x-ndjson"
    assert [json.loads(line)["n"] for line in resp.body.splitlines()] == [0, 1, 2]


def test_timeout_gives_504_and_x_timeout_shortens_it(start_watchdog):
    wd = start_http(start_watchdog, {"exec_timeout": "10s"})
    resp = harness.request(wd.port, "GET", "/slow?ms=3000", headers={"X-Timeout": "300ms"})
    assert resp.status == 504
    assert resp.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert resp.header("X-Duration-Seconds") is not None
    assert resp.body == b""
    wd.wait_for_log(r'Upstream HTTP request error: Get "http://127\.0\.0\.1:\d+/slow\?ms=3000": '
                    r"context deadline exceeded")
    wd.wait_for_log(r"Upstream HTTP killed due to exec_timeout: 300ms")
    wd.wait_for_log(r"GET /slow\?ms=3000 - 504 Gateway Timeout")
    # A request inside the timeout is served.
    assert harness.request(wd.port, "GET", "/slow?ms=50").status == 200


def test_refused_upstream_gives_502(start_watchdog):
    port = harness.free_port()
    wd = start_watchdog({"mode": "http", "fprocess": "sleep 600",
                         "upstream_url": f"http://127.0.0.1:{port}"})
    resp = harness.request(wd.port, "POST", "/x", body=b"abc")
    assert resp.status == 502
    assert resp.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert resp.header("Content-Length") == "0"
    wd.wait_for_log(rf'Upstream HTTP request error: Post "http://127\.0\.0\.1:{port}/x": '
                    rf"dial tcp 127\.0\.0\.1:{port}: connect: connection refused")


def test_child_death_is_fatal(start_watchdog):
    wd = start_http(start_watchdog)
    harness.request(wd.port, "GET", "/exit?code=3")
    rc = wd.wait_exit()
    assert rc != 0
    wd.wait_for_log(r"Forked function has terminated: exit status 3")


def test_child_that_cannot_start_stops_startup(start_watchdog):
    wd = start_watchdog({"mode": "http", "fprocess": "/nonexistent/server",
                         "upstream_url": "http://127.0.0.1:9"}, wait_ready=False)
    assert wd.wait_exit() == 1
    wd.wait_for_log(r"Forked function has terminated: fork/exec /nonexistent/server: "
                    r"no such file or directory")


def test_keep_alive_reuses_one_upstream_connection(start_watchdog):
    wd = start_http(start_watchdog)
    for i in range(20):
        assert harness.request(wd.port, "GET", f"/echo?i={i}").status == 200
    resp = harness.request(wd.port, "GET", "/connections")
    assert resp.body == b"1"


def test_drain_lets_in_flight_request_finish_then_terminates_child(start_watchdog):
    wd = start_http(start_watchdog, {"healthcheck_interval": "200ms", "write_timeout": "10s"})
    result = {}

    def slow():
        result["resp"] = harness.request(wd.port, "GET", "/slow?ms=1200")

    t = threading.Thread(target=slow)
    t.start()
    harness.wait_until(lambda: wd.proc.poll() is None and len(wd.lines()) > 0)
    wd.signal(signal.SIGTERM)
    t.join(10)
    assert result["resp"].status == 200
    assert result["resp"].body == b"slow done"
    assert wd.wait_exit() == 0
    lines = wd.lines()
    served = next(i for i, l in enumerate(lines) if "GET /slow?ms=1200 - 200 OK" in l)
    term = next(i for i, l in enumerate(lines) if "stderr: got SIGTERM" in l)
    assert served < term
    assert not any("Forked function has terminated" in l for l in lines)


def test_ready_path_goes_through_the_proxy(start_watchdog):
    wd = start_http(start_watchdog, {"ready_path": "/echo?status=503"})
    resp = harness.request(wd.port, "GET", "/_/ready")
    assert resp.status == 503
    assert resp.header("X-Upstream") == "yes"


def test_flask_app_behind_the_proxy(start_watchdog):
    # Flask says it is serving only once its socket is bound.
    wd = start_http(start_watchdog, fixture="flask_upstream.py",
                    ready=(r"stderr: .*Running on http://127\.0\.0\.1", "stderr"))
    resp = harness.request(wd.port, "GET", "/hello")
    assert resp.status == 200 and resp.body == b"hello from flask"
    resp = harness.request(wd.port, "POST", "/echo", body=b'{"a": 1}',
                           headers={"Content-Type": "application/json"})
    assert resp.status == 202
    doc = json.loads(resp.body)
    assert doc == {"method": "POST", "length": "8", "body": '{"a": 1}',
                   "forwarded_for": "127.0.0.1"}
    resp = harness.request(wd.port, "GET", "/lines", headers={"Accept": "application/x-ndjson"})
    assert [json.loads(x)["line"] for x in resp.body.splitlines()] == [0, 1, 2]


def ws_frame(opcode, payload):
    """A client frame: FIN set, masked as RFC 6455 requires of clients."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    else:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def read_ws_frame(conn):
    """One unmasked server frame (payloads under 64 KiB) as (opcode, payload)."""
    head = conn._read_exact(2, conn_deadline(conn))
    n = head[1] & 0x7F
    if n == 126:
        n = int.from_bytes(conn._read_exact(2, conn_deadline(conn)), "big")
    return head[0] & 0x0F, conn._read_exact(n, conn_deadline(conn))


def conn_deadline(conn):
    return time.monotonic() + conn.timeout


def test_websocket_tunnel(start_watchdog):
    wd = start_http(start_watchdog, {"exec_timeout": "1s"})
    key = base64.b64encode(os.urandom(16)).decode()
    c = harness.RawConnection(wd.port)
    hello = ws_frame(0x1, b"sent with the handshake")
    c.send((f"GET /ws HTTP/1.1\r\nHost: fn\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n").encode() + hello)
    resp = c.read_response()
    assert resp.status == 101, resp
    assert resp.header("Upgrade").lower() == "websocket"
    assert "upgrade" in resp.header("Connection").lower()
    expected = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    assert resp.header("Sec-WebSocket-Accept") == expected
    assert resp.header("Transfer-Encoding") is None and resp.header("Content-Length") is None
    assert read_ws_frame(c) == (0x1, b"sent with the handshake")
    # Messages both ways, one of them long, and the tunnel outlives exec_timeout (a stream).
    big = bytes(range(256)) * 200
    for payload in (b"one", big, b"three"):
        c.send(ws_frame(0x2, payload))
        assert read_ws_frame(c) == (0x2, payload)
    # Idle past exec_timeout: a protocol switch is a stream, bounded only until its head.
    r, _, _ = select.select([c.sock], [], [], 1.5)
    assert not r, "the tunnel was cut while idle"
    c.send(ws_frame(0x1, b"after the timeout"))
    assert read_ws_frame(c) == (0x1, b"after the timeout")
    c.send(ws_frame(0x8, b"\x03\xe8"))
    assert read_ws_frame(c) == (0x8, b"\x03\xe8")
    # The upstream closes after the close frame; the watchdog ends the client connection too.
    assert c.read_until_closed() == b""
    c.close()


def test_max_body_size_refuses_a_declared_body_before_the_upstream(start_watchdog):
    wd = start_http(start_watchdog, {"max_body_size": "16", "http_buffer_req_body": "true"})
    resp = harness.request(wd.port, "POST", "/echo", body=b"x" * 17)
    assert resp.status == 413
    assert resp.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert resp.body == b"Request body too large: the limit is 16 bytes"
    wd.wait_for_log(r"POST /echo - 413 Request Entity Too Large - ContentLength: 45B")
    # A buffered chunked body is refused once it passes the limit.
    resp = harness.request(wd.port, "POST", "/echo", headers={"Transfer-Encoding": "chunked"},
                           body=b"11\r\n" + b"y" * 17 + b"\r\n0\r\n\r\n")
    assert resp.status == 413
    # Neither request reached the upstream: this one opens its first connection.
    assert harness.request(wd.port, "GET", "/connections").body == b"1"
    # Exactly at the limit passes.
    assert echo(harness.request(wd.port, "POST", "/echo", body=b"z" * 16))["body"] == "z" * 16


@pytest.mark.parametrize("body,chunked,expected", [
    (b"<html><body>hi</body></html>", False, "text/html; charset=utf-8"),
    (b"  <!DOCTYPE html>", True, "text/html; charset=utf-8"),
    (b"plain words", False, "text/plain; charset=utf-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", True, "image/png"),
    (b"%PDF-1.4 ...", False, "application/pdf"),
    (b"\x00\x01\x02binary", False, "application/octet-stream"),
])
def test_a_response_without_content_type_is_sniffed(start_watchdog, body, chunked, expected):
    wd = start_http(start_watchdog)
    resp = harness.request(wd.port, "GET", f"/untyped?hex={body.hex()}&chunked={int(chunked)}")
    assert resp.status == 200
    assert resp.body == body
    assert resp.header_all("Content-Type") == [expected]


def test_no_content_type_is_invented_for_an_empty_body_or_a_typed_one(start_watchdog):
    wd = start_http(start_watchdog)
    for path in ("/untyped", "/untyped?chunked=1", "/untyped?status=204"):
        resp = harness.request(wd.port, "GET", path)
        assert resp.status in (200, 204) and resp.body == b""
        assert resp.header("Content-Type") is None, path
    head = harness.request(wd.port, "HEAD", f"/untyped?hex={b'<html>'.hex()}")
    assert head.header("Content-Type") is None
    typed = harness.request(wd.port, "GET", "/chunked")
    assert typed.header_all("Content-Type") == ["text/plain"]
