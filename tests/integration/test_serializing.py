"""Serializing mode against the real binary: docs/serializing.md, with the fork-mode rules and
x-timeout of docs/decisions.md.
Every wait is bounded; functions come from tests/fixtures/."""

import hashlib
import os
import re
import socket
import struct
import time

import harness
from harness import RawConnection, fixture, pid_alive, request, wait_until

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
DURATION = re.compile(r"^\d+\.\d{6}$")


def serializing(extra):
    env = {"mode": "serializing"}
    env.update(extra)
    return env


def read_pids(directory, timeout=10):
    path = os.path.join(directory, "pids")
    wait_until(lambda: os.path.exists(path), timeout, what="the function to write its pids")
    with open(path) as f:
        return [int(p) for p in f.read().split()]


def test_echo_through_cat(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "cat"}))
    wd.wait_for_log(TS + r"Watchdog mode: serializing")
    r = request(wd.port, "POST", "/echo?x=1", body=b"hello, world")
    assert r.status == 200
    assert r.body == b"hello, world"
    assert r.header("Content-Length") == "12"
    assert r.header("Transfer-Encoding") is None
    assert r.header("Content-Type") == "application/octet-stream"
    assert DURATION.match(r.header("X-Duration-Seconds"))
    wd.wait_for_log(TS + r"Started logging: stderr from function\.$")
    wd.wait_for_log(TS + r"POST /echo\?x=1 - 200 - ContentLength: 12B \(\d+\.\d{4}s\)$")


def test_cgi_environment(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "env", "content_type": "text/plain"}))
    r = request(wd.port, "GET", "/a%20b?q=1", headers={"X-Custom": "yes"})
    assert r.status == 200
    assert r.header("Content-Type") == "text/plain"
    env = dict(line.split("=", 1) for line in r.body.decode().splitlines() if "=" in line)
    assert env["Http_Method"] == "GET"
    assert env["Http_Path"] == "/a b"
    assert env["Http_Query"] == "q=1"
    assert env["Http_X_Custom"] == "yes"
    assert env["mode"] == "serializing"


def test_chunked_request_body(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "cat"}))
    r = request(wd.port, "POST", "/", headers={"Transfer-Encoding": "chunked"},
                body=b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
    assert r.status == 200
    assert r.body == b"abcdefg"
    assert r.header("Content-Length") == "7"


def test_exit_nonzero_is_500(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": fixture("exit_with.sh") + " 3 partial"}))
    r = request(wd.port, "GET", "/fail")
    assert r.status == 500
    assert r.body == b"exit status 3"  # the function's output is dropped
    assert r.header("Content-Type").startswith("text/plain")
    assert DURATION.match(r.header("X-Duration-Seconds"))
    wd.wait_for_log(TS + r"exit status 3$")
    wd.wait_for_log(TS + r"GET /fail - 500 - ContentLength: 13B ")  # the real status


def test_exec_timeout_kills_the_process_group(start_watchdog, tmp_path):
    wd = start_watchdog(serializing({"fprocess": fixture("group_sleeper.sh"),
                                     "exec_timeout": "1s", "PID_DIR": str(tmp_path)}))
    t0 = time.monotonic()
    r = request(wd.port, "GET", "/", timeout=15)
    elapsed = time.monotonic() - t0
    assert r.status == 500
    assert r.body == b"signal: killed"
    assert DURATION.match(r.header("X-Duration-Seconds"))
    assert elapsed < 5  # the grandchild holding stdout does not keep the request open
    pids = read_pids(str(tmp_path))
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10, what=f"{pids} to be gone")
    wd.wait_for_log(TS + r"GET / - 500 - ")


def test_exec_timeout_covers_reading_the_body(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "cat", "exec_timeout": "500ms"}))
    c = RawConnection(wd.port)
    try:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        r = c.read_response(timeout=10)
    finally:
        c.close()
    assert r.status == 500
    assert r.body == b"context deadline exceeded"


def test_missing_executable(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "/nonexistent"}))
    r = request(wd.port, "POST", "/", body=b"x")
    assert r.status == 500
    assert r.body == b"fork/exec /nonexistent: no such file or directory"
    wd.wait_for_log(TS + r"fork/exec /nonexistent: no such file or directory$")
    wd.wait_for_log(TS + r"POST / - 500 - ")


def test_function_that_ignores_a_large_body_still_answers(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "echo ignored"}))
    r = request(wd.port, "POST", "/", body=b"z" * (1 << 20))
    assert r.status == 200
    assert r.body == b"ignored\n"


def test_client_disconnect_kills_the_function_group(start_watchdog, tmp_path):
    wd = start_watchdog(serializing({"fprocess": fixture("group_sleeper.sh"),
                                     "exec_timeout": "60s", "PID_DIR": str(tmp_path)}))
    c = RawConnection(wd.port)
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    pids = read_pids(str(tmp_path))
    assert all(pid_alive(p) for p in pids)
    c.close()
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10, what=f"{pids} to be gone")
    wd.wait_for_log(TS + r"Killing the function's process group")


def test_twenty_mebibytes_through_cat(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "cat"}))
    baseline_kib = wd.rss_kib()
    size = 20 << 20
    body = bytes((i * 7 + i // 4093) & 0xFF for i in range(1 << 20)) * 20
    r = request(wd.port, "POST", "/", body=body, timeout=60)
    assert r.status == 200
    assert r.header("Content-Length") == str(size)
    assert hashlib.sha256(r.body).hexdigest() == hashlib.sha256(body).hexdigest()
    if not harness.SANITIZED:  # ASan's quarantine makes RSS meaningless
        grown_kib = wd.rss_kib(peak=True) - baseline_kib
        assert grown_kib < 2.5 * size / 1024, f"peak RSS grew by {grown_kib} KiB"


def _post_big(wd, path, body, timeout=60):
    """POSTs `body` and reads the answer into one preallocated buffer (the harness's reader
    copies its buffer on every read, too slow for tens of MiB); returns (head, body)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", wd.port), timeout=timeout) as sock:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % (path.encode(), len(body)) + body)
        data = b""
        while b"\r\n\r\n" not in data:
            assert time.monotonic() < deadline, "no response head in time"
            chunk = sock.recv(65536)
            assert chunk, "closed before the response head"
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        head = head.decode("latin-1") + "\r\n"
        length = int(re.search(r"Content-Length: (\d+)\r\n", head).group(1))
        out = bytearray(length)
        view = memoryview(out)
        got = len(rest)
        view[:got] = rest
        while got < length:
            assert time.monotonic() < deadline, f"only {got} of {length} bytes in time"
            n = sock.recv_into(view[got:], min(1 << 20, length - got))
            assert n, f"closed after {got} of {length} bytes"
            got += n
        return head, bytes(out)


def test_big_body_and_output_stay_out_of_the_process_memory(start_watchdog):
    # Beyond 80 KiB, the body and the output are held in in-memory files, not in the process's
    # own pages, and the output leaves with sendfile.
    wd = start_watchdog(serializing({"fprocess": "cat"}))
    request(wd.port, "POST", "/", body=b"warm")  # the process reaches its steady state first
    baseline_kib = wd.rss_kib(peak=True)
    io_before = wd.proc_io()
    size = 32 << 20
    body = bytes((i * 13 + i // 4099) & 0xFF for i in range(1 << 20)) * 32
    head, out = _post_big(wd, "/big", body)
    io_after = wd.proc_io()
    assert head.startswith("HTTP/1.1 200 ")
    assert f"Content-Length: {size}\r\n" in head
    assert hashlib.sha256(out).hexdigest() == hashlib.sha256(body).hexdigest()
    # The bytes sent from the file count in the access line (a decimal human size).
    wd.wait_for_log(TS + r"POST /big - 200 - ContentLength: 33\.55MB ")
    # A copying path would show here as about one read-type call per 64 KiB of output.
    harness.report("serializing 32 MiB: read-type syscalls", io_after["syscr"] - io_before["syscr"])
    # The process itself grows by far less than the 32 MiB it moved (it held them twice before).
    if not harness.SANITIZED:  # ASan's quarantine makes RSS meaningless
        grown_kib = wd.rss_kib(peak=True) - baseline_kib
        harness.report("serializing 32 MiB: peak RSS growth KiB", grown_kib)
        assert grown_kib < 8 * 1024, f"peak RSS grew by {grown_kib} KiB for a 32 MiB body"


def test_with_a_file_size_limit_big_bodies_are_held_in_mapped_memory(start_watchdog):
    # Writing an in-memory file past `ulimit -f` would raise SIGXFSZ, so the queues map memory
    # instead; the answer is the same, and this time the bytes show in the RSS.
    wd = start_watchdog(serializing({"fprocess": "cat"}), binary="/bin/sh",
                        args=("-c", f'ulimit -f 1000000 && exec "{harness.BIN}"'))
    request(wd.port, "POST", "/", body=b"warm")
    baseline_kib = wd.rss_kib(peak=True)
    size = 16 << 20
    body = bytes((i * 11 + i // 4093) & 0xFF for i in range(1 << 20)) * 16
    head, out = _post_big(wd, "/", body)
    assert head.startswith("HTTP/1.1 200 ")
    assert f"Content-Length: {size}\r\n" in head
    assert hashlib.sha256(out).hexdigest() == hashlib.sha256(body).hexdigest()
    if not harness.SANITIZED:
        grown_kib = wd.rss_kib(peak=True) - baseline_kib
        assert grown_kib > 12 * 1024, f"peak RSS grew by only {grown_kib} KiB: not mapped memory"


def test_client_leaving_while_the_output_is_sent_releases_every_descriptor(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "cat"}))
    size = 16 << 20
    body = b"x" * size
    assert request(wd.port, "POST", "/", body=body, timeout=60).body == body  # the file path ran
    wait_until(lambda: wd.server_connections() == 0, what="connections closed")
    baseline = wd.open_fds()
    for _ in range(2):
        c = RawConnection(wd.port, timeout=30)
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + body)
        c.wait_for_bytes(b"\r\n\r\n", timeout=60)
        got = len(c.buf)
        while got < (4 << 20):  # into the output, then gone with the socket buffers full
            chunk = c.sock.recv(1 << 20)
            assert chunk
            got += len(chunk)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()  # a reset
    wait_until(lambda: wd.server_connections() == 0, what="connections closed")
    wait_until(lambda: wd.open_fds() == baseline, what=f"fd count back to {baseline}")
    assert request(wd.port, "POST", "/", body=b"again").body == b"again"


def test_kube_probe_has_no_access_line(start_watchdog):
    wd = start_watchdog(serializing({"fprocess": "cat"}))
    request(wd.port, "GET", "/probe", headers={"User-Agent": "kube-probe/1.27"})
    request(wd.port, "GET", "/after")
    wd.wait_for_log(TS + r"GET /after - 200 - ")
    assert not any("GET /probe" in line for line in wd.lines())


# --- max_body_size ----------------------------------------------------------------------------

LIMIT = 16


def body_limited(start_watchdog, tmp_path, mode="serializing"):
    """A watchdog with max_body_size=16 whose function leaves a marker file when it runs."""
    marker = tmp_path / "ran"
    wd = start_watchdog({"mode": mode, "max_body_size": str(LIMIT),
                         "fprocess": f'["/bin/sh", "-c", "touch {marker}; cat"]'})
    return wd, marker


def assert_413(r):
    assert r.status == 413
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.body == f"Request body too large: the limit is {LIMIT} bytes".encode()


def metric(wd, sample):
    text = request(wd.metrics_port, "GET", "/metrics").body.decode()
    return any(line.startswith(sample + " ") for line in text.splitlines())


def test_max_body_size_declared_too_large_is_413_before_the_function(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    r = request(wd.port, "POST", "/big", body=b"x" * (LIMIT + 1))
    assert_413(r)
    wd.wait_for_log(TS + r"Request body too large: the limit is 16 bytes$")
    wd.wait_for_log(TS + r"POST /big - 413 - ContentLength: \d+B")
    assert not marker.exists()
    assert "Started logging: stderr from function." not in "\n".join(wd.lines())
    wait_until(lambda: metric(wd, 'http_requests_total{code="413",method="post"}'),
               what="the 413 in the metrics")


def test_max_body_size_exactly_at_the_limit_passes(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    r = request(wd.port, "POST", "/", body=b"y" * LIMIT)
    assert r.status == 200
    assert r.body == b"y" * LIMIT
    assert marker.exists()


def test_max_body_size_chunked_overrun_is_413(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    c = RawConnection(wd.port)
    try:
        c.send(b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"10\r\n" + b"a" * 16 + b"\r\n")
        # The limit is reached, not passed: nothing is answered yet.
        c.send(b"1\r\nb\r\n")
        r = c.read_response()
        assert_413(r)
        # The rest of the body is discarded and the connection carries the next request.
        c.send(b"0\r\n\r\nPOST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        r = c.read_response()
        assert r.status == 200
        assert r.body == b"ok"
    finally:
        c.close()
    wd.wait_for_log(TS + r"POST /c - 413 - ContentLength: \d+B")
    # Only the second request ran the function.
    assert len([l for l in wd.lines() if "Started logging: stderr from function." in l]) == 1


def test_max_body_size_chunked_within_the_limit_passes(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    r = request(wd.port, "POST", "/", headers={"Transfer-Encoding": "chunked"},
                body=b"8\r\n" + b"a" * 8 + b"\r\n8\r\n" + b"b" * 8 + b"\r\n0\r\n\r\n")
    assert r.status == 200
    assert r.body == b"a" * 8 + b"b" * 8


def test_max_body_size_expect_continue_gets_413_without_100(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    c = RawConnection(wd.port)
    try:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n")
        r = c.read_response()
        assert_413(r)
        # The client never sent its body, so the connection cannot be reused: it is closed.
        assert r.header("Connection") == "close"
        assert c.is_closed()
    finally:
        c.close()
    assert not marker.exists()
