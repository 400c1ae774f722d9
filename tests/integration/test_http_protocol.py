"""The HTTP/1.1 server (lib/http) on the wire, driven through the test-only echo server.

tests/support/http_echo_server answers every request with a plain-text summary of it (one
`key=value` line each, headers as `header=Name: value`, then a blank line) followed by the
request body streamed back. Query switches: status=N, len=known, big=N, abort=1|head, noread=1.
"""

import os
import re
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

import harness
from harness import RawConnection

SUPPORT_BUILD = os.environ.get("OFWATCHDOG_SUPPORT_BUILD") or os.path.join(
    os.path.dirname(harness.FIXTURES_BUILD.rstrip("/")), "support")
ECHO_BIN = os.environ.get("OFWATCHDOG_ECHO_BIN") or os.path.join(SUPPORT_BUILD, "http_echo_server")


class EchoServer:
    def __init__(self, *args):
        self.proc = subprocess.Popen([ECHO_BIN, *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()
        self.port = int(self.wait_for(r"Listening on port: (\d+)").group(1))

    def _pump(self):
        for raw in iter(self.proc.stderr.readline, b""):
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pattern, timeout=harness.DEFAULT_WAIT):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r}; got {self.lines}")
                self._cond.wait(min(left, 0.2))

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=harness.DEFAULT_WAIT)
        self._reader.join(harness.DEFAULT_WAIT)


@pytest.fixture
def echo():
    servers = []

    def start(*args):
        s = EchoServer(*args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()
    # A sanitizer build of the echo server (OFWATCHDOG_ECHO_BIN) reports memory errors here.
    for s in servers:
        bad = [l for l in s.lines if "Sanitizer" in l or "runtime error:" in l]
        assert not bad, "\n".join(s.lines)


def summary(resp):
    """The echo summary as a dict (headers under 'headers') and the echoed body."""
    text, _, body = resp.body.partition(b"\n\n")
    info = {"headers": []}
    for line in text.decode("latin-1").split("\n"):
        key, _, value = line.partition("=")
        if key == "header":
            info["headers"].append(value)
        else:
            info[key] = value
    return info, body


def get(path="/", extra="", version="HTTP/1.1"):
    return f"GET {path} {version}\r\nHost: t\r\n{extra}\r\n".encode()


# --- keep-alive, pipelining, framing -------------------------------------------------------

def test_keep_alive_serves_several_requests_on_one_connection(echo):
    srv = echo()
    c = RawConnection(srv.port)
    for i in range(3):
        c.send(get(f"/k{i}?n={i}"))
        r = c.read_response()
        info, _ = summary(r)
        assert r.status == 200 and info["path"] == f"/k{i}" and info["query"] == f"n={i}"
        assert r.header("Transfer-Encoding") == "chunked"
        assert re.match(r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", r.header("Date"))
    assert not c.is_closed(timeout=0.3)
    c.close()


def test_pipelined_requests_are_answered_in_order(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("/one") + b"POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" +
           get("/three"))
    got = []
    for _ in range(3):
        info, body = summary(c.read_response())
        got.append((info["path"], body))
    assert got == [("/one", b""), ("/two", b"hello"), ("/three", b"")]
    c.close()


def test_chunked_request_body_is_dechunked_and_echoed(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n")
    r = c.read_response()
    assert r.status == 200 and r.header("Transfer-Encoding") == "chunked"
    assert summary(r)[1] == b"hello, world"
    c.close()


def test_known_length_response(echo):
    srv = echo()
    r = harness.request(srv.port, "POST", "/l?len=known", body=b"abc")
    assert r.header("Content-Length") == str(len(r.body)) and r.body.endswith(b"\n\nabc")
    assert r.header("Transfer-Encoding") is None


def test_expect_100_continue_is_sent_when_the_handler_reads(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"POST /e?len=known HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    interim = c.read_response()
    assert interim.status == 100
    c.send(b"data")
    r = c.read_response()
    assert r.status == 200 and summary(r)[1] == b"data"
    c.close()


def test_expect_100_continue_not_sent_when_the_body_is_not_read(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"POST /e?noread=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
           b"Expect: 100-continue\r\n\r\n")
    r = c.read_response()
    assert r.status == 200 and r.header("Connection") == "close"
    assert c.is_closed(timeout=3)


def test_unknown_expectation_is_417(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx")
    r = c.read_response()
    assert r.status == 417 and r.body == b"" and r.header("Connection") == "close"
    assert c.is_closed(timeout=3)


def test_head_has_no_body_but_keeps_content_length(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"HEAD /h?big=1000 HTTP/1.1\r\nHost: t\r\n\r\n" + get("/after"))
    r = c.read_response(head_request=True)
    assert r.status == 200 and r.header("Content-Length") == "1000"
    # Nothing of the body leaks: the next bytes are the next response.
    r2 = c.read_response()
    assert summary(r2)[0]["path"] == "/after"
    c.close()


def test_status_204_has_no_body(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("/s?status=204") + get("/next"))
    r = c.read_response()
    assert r.status == 204 and r.header("Transfer-Encoding") is None
    assert r.header("Content-Length") is None
    assert summary(c.read_response())[0]["path"] == "/next"
    c.close()


def test_http10_without_keep_alive_is_closed_after_the_response(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"GET /old HTTP/1.0\r\n\r\n")
    data = c.read_until_closed()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"version=1.0" in body


def test_http10_keep_alive_with_known_length(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"GET /k?len=known HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = c.read_response()
    assert r.status == 200 and r.header("Connection") == "keep-alive"
    c.send(b"GET /k2?len=known HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert summary(c.read_response())[0]["path"] == "/k2"
    c.close()


def test_connection_close_from_the_client(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("/bye", "Connection: close\r\n"))
    r = c.read_response()
    assert r.status == 200 and r.header("Connection") == "close"
    assert c.is_closed(timeout=3)


def test_abort_after_head_leaves_the_chunked_body_unterminated(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("/a?abort=1"))
    data = c.read_until_closed()
    assert data.startswith(b"HTTP/1.1 200 OK") and b"transfer-encoding: chunked" in data.lower()
    assert not data.endswith(b"0\r\n\r\n")


def test_abort_before_head_closes_with_nothing(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("/a?abort=head"))
    assert c.read_until_closed() == b""


# --- server-generated answers --------------------------------------------------------------

@pytest.mark.parametrize("target,location", [
    ("//a//b", "/a/b"),
    ("/a/../b?z=1", "/b?z=1"),
    ("/a/./b/", "/a/b/"),
    ("/a%2F..%2Fc", "/c"),
    ("/x/..", "/"),
])
def test_unclean_paths_redirect(echo, target, location):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get(target))
    r = c.read_response()
    assert r.status == 301 and r.header("Location") == location
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert r.body == f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
    # The redirect does not cost the connection.
    c.send(get("/fine"))
    assert summary(c.read_response())[0]["path"] == "/fine"
    c.close()


def test_redirect_for_post_has_no_body_and_the_body_is_drained(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"POST //p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" + get("/next"))
    r = c.read_response()
    assert r.status == 301 and r.body == b"" and r.header("Content-Type") is None
    assert summary(c.read_response())[0]["path"] == "/next"
    c.close()


def test_absolute_form_target_uses_path_and_query(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("http://example.com/abs?q=1"))
    info, _ = summary(c.read_response())
    assert info["path"] == "/abs" and info["query"] == "q=1"
    c.close()


def test_options_star(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response()
    assert r.status == 200 and r.body == b"" and r.header("Content-Length") == "0"
    c.close()


def test_headers_over_one_mebibyte_get_431(echo):
    srv = echo()
    c = RawConnection(srv.port)
    big = b"X-Big: " + b"a" * ((1 << 20) + 4096) + b"\r\n"
    try:
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n" + big + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = c.read_until_closed()
    assert data.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"Content-Type: text/plain; charset=utf-8\r\n" in data
    assert b"Connection: close\r\n" in data
    assert data.endswith(b"\r\n\r\n431 Request Header Fields Too Large")


def test_headers_just_under_the_limit_are_accepted(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"GET /ok?noread=1 HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * ((1 << 20) - 100) + b"\r\n\r\n")
    r = c.read_response()
    assert r.status == 200
    c.close()


BAD_REQUESTS = {
    "cl_and_te": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "two_lengths": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "bad_length": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
    "bad_request_line": b"GET/ HTTP/1.1 extra\r\nHost: t\r\n\r\n",
    "bad_escape": b"GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n",
    "bad_header": b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(BAD_REQUESTS))
def test_malformed_requests_get_400_and_close(echo, name):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(BAD_REQUESTS[name])
    data = c.read_until_closed()
    assert data == (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    b"Connection: close\r\n\r\n400 Bad Request")


def test_bad_chunk_size_mid_body_closes_the_connection(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    data = c.read_until_closed()
    # The head was already handed out and its response had started: the connection is cut.
    assert not data.endswith(b"0\r\n\r\n")
    srv.wait_for(r"cancelled: malformed request body")


def test_missing_host_on_http11(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"GET / HTTP/1.1\r\n\r\n")
    data = c.read_until_closed()
    text = b"400 Bad Request: missing required Host header"
    assert data.startswith(b"HTTP/1.1 " + text + b"\r\n") and data.endswith(b"\r\n\r\n" + text)


# --- timeouts and resources ------------------------------------------------------------------

def test_slow_loris_is_cut_off_by_the_read_timeout(echo):
    srv = echo("--read-timeout=1")
    c = RawConnection(srv.port)
    request = get("/slow", "X-Pad: " + "p" * 40 + "\r\n")
    start = time.monotonic()
    closed = False
    for byte in request:
        try:
            c.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        r, _, _ = select.select([c.sock], [], [], 0.2)
        if r:
            try:
                closed = c.sock.recv(1) == b""
            except ConnectionResetError:
                closed = True
            if closed:
                break
        if time.monotonic() - start > 5:
            break
    elapsed = time.monotonic() - start
    assert closed, "the server kept a 1-byte-per-0.2s client past its read timeout"
    assert 0.8 <= elapsed < 2.5
    c.close()


def test_slow_body_cancels_the_exchange_with_read_timeout(echo):
    srv = echo("--read-timeout=1")
    c = RawConnection(srv.port)
    c.send(b"POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
    assert c.is_closed(timeout=4)
    srv.wait_for(r"cancelled: read timeout")


def test_idle_keep_alive_connection_is_closed(echo):
    srv = echo("--idle-timeout=0.5")
    c = RawConnection(srv.port)
    c.send(get("/i"))
    assert c.read_response().status == 200
    start = time.monotonic()
    assert c.is_closed(timeout=3)
    assert 0.3 <= time.monotonic() - start < 2.0


def test_peer_close_cancels_the_active_exchange(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npartial")
    c.read_response_head = None
    c.close()
    srv.wait_for(r"cancelled: client closed")


def test_a_client_that_never_reads_does_not_grow_the_server(echo):
    srv = echo()
    before = srv.rss_kib()
    c = socket.create_connection(("127.0.0.1", srv.port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    c.sendall(get(f"/big?big={64 << 20}"))
    # Give the server time to fill every buffer it is willing to fill.
    deadline = time.monotonic() + 1.5
    peak = before
    while time.monotonic() < deadline:
        peak = max(peak, srv.rss_kib())
        time.sleep(0.05)
    harness.report("http server, client never reading 64 MiB: RSS growth KiB", peak - before)
    if not harness.SANITIZED:  # ASan's allocator quarantine makes RSS meaningless
        assert peak - before < 4096, f"RSS grew from {before} KiB to {peak} KiB"
    c.close()


def test_write_timeout_cancels_a_stalled_response(echo):
    srv = echo("--write-timeout=1")
    c = socket.create_connection(("127.0.0.1", srv.port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    c.sendall(get(f"/big?big={64 << 20}"))
    srv.wait_for(r"cancelled: write timeout", timeout=5)
    c.close()


def test_many_requests_on_one_connection_leave_fds_unchanged(echo):
    srv = echo()
    c = RawConnection(srv.port)
    during = None
    for i in range(200):
        c.send(get(f"/n{i}"))
        assert c.read_response().status == 200
        if i == 0:
            # Counted once serving, not at start: sanitizer runtimes open and close descriptors
            # of their own while the process starts.
            during = srv.fds()
    assert srv.fds() == during
    c.close()
    harness.wait_until(lambda: srv.fds() == during - 1, what="connection fd released")


def test_sigterm_drains_and_exits_cleanly(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("/x"))
    assert c.read_response().status == 200
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=5) == 0
    assert c.is_closed(timeout=2)


# --- Upgrade / 101 tunnels -----------------------------------------------------------------

UPGRADE = "Connection: Upgrade\r\nUpgrade: echo\r\n"


def open_tunnel(srv, early=b"", extra=""):
    """Sends an upgrade request (with `early` bytes in the same packet) and reads the 101."""
    c = RawConnection(srv.port)
    c.send(get("/t?upgrade=1", UPGRADE + extra) + early)
    head = c.read_response()
    assert head.status == 101, head
    assert head.header("Connection") == "Upgrade"
    assert head.header("Upgrade") == "echo"
    assert head.header("Content-Length") is None and head.header("Transfer-Encoding") is None
    return c


def test_tunnel_echoes_bytes_sent_with_the_head_and_after(echo):
    srv = echo()
    c = open_tunnel(srv, early=b"early bytes|")
    c.wait_for_bytes(b"early bytes|")
    c.send(b"GET / HTTP/1.1\r\n\r\nnot http any more")
    c.wait_for_bytes(b"not http any more")
    assert c.buf == b"early bytes|GET / HTTP/1.1\r\n\r\nnot http any more"
    c.buf = b""
    # A half-close ends the client's side; the server flushes, then closes its side.
    c.sock.shutdown(socket.SHUT_WR)
    assert c.read_until_closed() == b""
    assert not any("cancelled" in l for l in srv.lines)


def test_tunnel_is_not_cut_by_the_read_write_and_idle_timeouts(echo):
    srv = echo("--read-timeout=0.3", "--write-timeout=0.3", "--idle-timeout=0.3")
    baseline = srv.fds()
    c = open_tunnel(srv)
    # Outlive every timeout with the tunnel idle (the bound is the test's, not a sync point).
    r, _, _ = select.select([c.sock], [], [], 1.0)
    assert not r, "the server closed or wrote to an idle tunnel"
    c.send(b"still here")
    c.wait_for_bytes(b"still here")
    c.close()
    # At most the baseline: sanitizer runtimes may hold start-up descriptors in the baseline.
    harness.wait_until(lambda: srv.fds() <= baseline, what="tunnel closed after the client")
    assert not any("cancelled" in l for l in srv.lines)


def test_tunnel_moves_large_data_both_ways_with_bounded_memory(echo):
    srv = echo()
    c = open_tunnel(srv)
    c.sock.settimeout(harness.DEFAULT_WAIT)
    total = 8 << 20
    block = bytes(range(256)) * 256  # 64 KiB
    before = srv.rss_kib()
    received = bytearray()

    def reader():
        while len(received) < total:
            chunk = c.sock.recv(1 << 16)
            if not chunk:
                break
            received.extend(chunk)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    for _ in range(total // len(block)):
        c.sock.sendall(block)
    c.sock.shutdown(socket.SHUT_WR)
    t.join(harness.DEFAULT_WAIT * 2)
    assert not t.is_alive(), f"only {len(received)} of {total} bytes came back"
    assert len(received) == total
    assert bytes(received) == block * (total // len(block))
    assert harness.SANITIZED or srv.rss_kib() - before < 8192  # no RSS bound under ASan
    assert c.read_until_closed() == b""


def test_tunnel_backpressure_when_the_client_does_not_read(echo):
    srv = echo()
    baseline = srv.fds()
    c = open_tunnel(srv)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    c.sock.setblocking(False)
    before = srv.rss_kib()
    sent = 0
    block = b"y" * 65536
    deadline = time.monotonic() + 5
    # The server stops reading once its echo is stuck, so the client's sends stall too.
    while time.monotonic() < deadline and sent < (64 << 20):
        _, w, _ = select.select([], [c.sock], [], 0.5)
        if not w:
            break
        try:
            sent += c.sock.send(block)
        except BlockingIOError:
            pass
    assert sent < (32 << 20), f"the server took {sent} bytes without the client reading"
    assert harness.SANITIZED or srv.rss_kib() - before < 8192  # no RSS bound under ASan
    c.close()
    # At most the baseline: sanitizer runtimes may hold start-up descriptors in the baseline.
    harness.wait_until(lambda: srv.fds() <= baseline, what="tunnel closed after the client")


def test_client_reset_cancels_the_tunnel(echo):
    srv = echo()
    c = open_tunnel(srv)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    srv.wait_for(r"cancelled: client closed")


def test_upgrade_request_answered_without_101_closes_after_the_response(echo):
    srv = echo()
    c = RawConnection(srv.port)
    c.send(get("/plain", UPGRADE) + b"GET /second HTTP/1.1\r\nHost: t\r\n\r\n")
    resp = c.read_response()
    assert resp.status == 200
    assert resp.header("Connection") == "close"
    info, _ = summary(resp)
    assert info["path"] == "/plain"
    # The bytes after the upgrade request are never taken as a second request.
    assert c.read_until_closed() == b""


def test_sigint_cuts_a_live_tunnel(echo):
    srv = echo()
    c = open_tunnel(srv)
    c.send(b"ping")
    c.wait_for_bytes(b"ping")
    srv.proc.send_signal(signal.SIGINT)
    assert c.is_closed(timeout=5)
    assert srv.proc.wait(timeout=5) == 0
    srv.wait_for(r"cancelled: shutdown")
