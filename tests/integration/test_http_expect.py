"""http mode and `Expect: 100-continue`, against a function server on Go's net/http.

Go's server reads a request body differently depending on whether the request carried the
expectation: a handler that starts answering before it has read a chunked body loses the next
256 KiB of it when there was none, and keeps the body whole when there was one. So a request
that works against such an upstream directly works through the watchdog only if the
expectation reaches the upstream and the upstream's own answer to it (100 Continue, or a final
answer without reading the body) reaches the client.

The upstream (tests/fixtures/go_upstream/main.go) is built here with Debian's golang-go,
offline and from the standard library alone, into the build tree.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

SOURCE = os.path.join(harness.FIXTURES, "go_upstream", "main.go")
SIZE = 10 << 20
BLOCK = bytes((i * 7 + i // 256) & 0xFF for i in range(64 * 1024))


@pytest.fixture(scope="module")
def go_upstream(tmp_path_factory):
    go = shutil.which("go")
    if go is None:
        pytest.fail("`go` is missing: scripts/install-deps installs golang-go")
    out_dir = os.environ.get("OFWATCHDOG_SUPPORT_BUILD") or str(tmp_path_factory.mktemp("go"))
    work = os.path.join(out_dir, "go-work")
    binary = os.path.join(out_dir, "go_upstream")
    env = dict(os.environ, GOCACHE=os.path.join(work, "cache"), GOPATH=os.path.join(work, "path"),
               GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="", GO111MODULE="", CGO_ENABLED="0")
    subprocess.run([go, "build", "-o", binary, SOURCE], cwd=os.path.dirname(SOURCE), env=env,
                   check=True, timeout=300, capture_output=True)
    return binary


def start_go_http(start_watchdog, binary, env=None):
    port = harness.free_port()
    base = {"mode": "http", "fprocess": f"{binary} {port}",
            "upstream_url": f"http://127.0.0.1:{port}"}
    base.update(env or {})
    wd = start_watchdog(base)
    wd.wait_for_log(r"listening on \d+", stream="stdout")
    return wd, port


def request_head(path, framing, expect=True, size=SIZE):
    head = f"POST {path} HTTP/1.1\r\nHost: fn\r\n"
    head += "Transfer-Encoding: chunked\r\n" if framing == "chunked" else f"Content-Length: {size}\r\n"
    if expect:
        head += "Expect: 100-continue\r\n"
    return (head + "\r\n").encode()


def send_body(conn, framing, size, sent, errors):
    try:
        for _ in range(size // len(BLOCK)):
            sent.update(BLOCK)
            if framing == "chunked":
                conn.sock.sendall(b"%x\r\n" % len(BLOCK) + BLOCK + b"\r\n")
            else:
                conn.sock.sendall(BLOCK)
        if framing == "chunked":
            conn.sock.sendall(b"0\r\n\r\n")
    except OSError as e:  # pragma: no cover - reported by the caller's assertion
        errors.append(e)


def echo_upload(port, framing, expect=True, size=SIZE):
    """POSTs `size` bytes to /echo as a client that honours the expectation would: the head, then
    (when it asked) the body only after `100 Continue`, sent from a thread while the echoed
    chunked 200 is read. Returns (the 200's head, sha256 sent, sha256 received, bytes
    received)."""
    conn = harness.RawConnection(port, timeout=harness.DEFAULT_WAIT)
    try:
        conn.send(request_head("/echo", framing, expect, size))
        if expect:
            interim = conn.read_response()
            assert interim.status == 100, interim
        deadline = time.monotonic() + harness.DEFAULT_WAIT * 3
        sent, errors = hashlib.sha256(), []
        sender = threading.Thread(target=send_body, args=(conn, framing, size, sent, errors),
                                  daemon=True)
        sender.start()
        try:
            conn.wait_for_bytes(b"\r\n\r\n")
            head = bytes(conn.buf[:conn.buf.index(b"\r\n\r\n")]).decode("latin-1")
            got, received = harness.receive_chunked_hashed(conn, deadline)
        finally:
            sender.join(max(deadline - time.monotonic(), 1))
        assert not errors, errors
        assert not sender.is_alive()
        return head, sent.hexdigest(), got.hexdigest(), received
    finally:
        conn.close()


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_expect_upload_passes_whole_as_it_does_directly(start_watchdog, go_upstream, framing):
    wd, upstream_port = start_go_http(start_watchdog, go_upstream)
    # The same request straight to the upstream: the reference the watchdog must match.
    _, sent, got, received = echo_upload(upstream_port, framing)
    assert (received, got) == (SIZE, sent)

    head, sent, got, received = echo_upload(wd.port, framing)
    assert received == SIZE, f"{SIZE - received} bytes lost"
    assert got == sent
    assert "X-Saw-Expect: 100-continue" in head, head
    wd.wait_for_log(r"POST /echo - 200 OK - ContentLength: -1B")


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_upstream_answering_without_reading_is_relayed_instead_of_100(start_watchdog,
                                                                       go_upstream, framing):
    """The upstream refuses before the client sent anything: the client gets that answer and no
    100 Continue, never sends its body, and the connection ends after the answer (where the next
    request would start is unknown)."""
    wd, _ = start_go_http(start_watchdog, go_upstream)
    conn = harness.RawConnection(wd.port)
    try:
        conn.send(request_head("/reject", framing))
        resp = conn.read_response()
        assert resp.status == 413, resp
        assert resp.body == b"too large\n"
        assert conn.is_closed()
    finally:
        conn.close()
    wd.wait_for_log(r"POST /reject - 413 Request Entity Too Large - ContentLength: 10B")
    # The watchdog and its pool go on serving.
    _, sent, got, received = echo_upload(wd.port, "length", size=1 << 20)
    assert (received, got) == (1 << 20, sent)


def test_upstream_that_ignores_the_expectation_still_gets_the_body(start_watchdog, go_upstream):
    """An upstream that waits for the body without ever sending 100 Continue: after a short wait
    the watchdog tells the client to go on itself, so neither side waits for the other."""
    wd, _ = start_go_http(start_watchdog, go_upstream)
    size = 256 * 1024
    conn = harness.RawConnection(wd.port)
    try:
        conn.send(request_head("/ignore-expect", "length", size=size))
        started = time.monotonic()
        interim = conn.read_response(timeout=5)
        waited = time.monotonic() - started
        assert interim.status == 100, interim
        conn.send(BLOCK * (size // len(BLOCK)))
        resp = conn.read_response()
        assert resp.status == 200, resp
        assert resp.body == str(size).encode()
    finally:
        conn.close()
    harness.report("expect_continue_fallback_seconds", f"{waited:.3f}")


def digest_upload(port, framing, expect, size):
    """POSTs `size` bytes to /digest (which reads the whole body before it answers) as
    `echo_upload` does; returns the answer and the sha256 of what was sent."""
    conn = harness.RawConnection(port)
    try:
        conn.send(request_head("/digest", framing, expect, size))
        if expect:
            interim = conn.read_response()
            assert interim.status == 100, interim
        sent, errors = hashlib.sha256(), []
        send_body(conn, framing, size, sent, errors)
        assert not errors, errors
        return conn.read_response(), sent.hexdigest()
    finally:
        conn.close()


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_without_expect_the_body_goes_at_once_and_the_upstream_gets_none(start_watchdog,
                                                                         go_upstream, framing):
    wd, _ = start_go_http(start_watchdog, go_upstream)
    resp, sent = digest_upload(wd.port, framing, expect=False, size=SIZE)
    assert resp.status == 200, resp
    assert resp.body == f"{SIZE} {sent}".encode()
    assert resp.header("X-Saw-Expect") == "none"


def test_buffered_body_is_answered_by_the_watchdog(start_watchdog, go_upstream):
    """With http_buffer_req_body the watchdog needs the body before it calls the upstream, so it
    says 100 Continue itself and sends the body with a Content-Length and no expectation."""
    wd, _ = start_go_http(start_watchdog, go_upstream, {"http_buffer_req_body": "true"})
    size = 1 << 20
    resp, sent = digest_upload(wd.port, "chunked", expect=True, size=size)
    assert resp.status == 200, resp
    assert resp.body == f"{size} {sent}".encode()
    assert resp.header("X-Saw-Expect") == "none"
