"""Streaming mode (the default) against the real binary: modes.md §3 with decisions C1, C2,
C5-C9, B9 and D1/D2. Every wait is bounded; functions come from tests/fixtures/."""

import os
import re
import threading
import time

import harness
from harness import RawConnection, fixture, pid_alive, request, wait_until

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "


def read_pids(directory, timeout=10):
    path = os.path.join(directory, "pids")
    wait_until(lambda: os.path.exists(path), timeout, what="the function to write its pids")
    with open(path) as f:
        return [int(p) for p in f.read().split()]


def wait_gone(pids, timeout=10):
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout,
               what=f"processes {pids} to be gone")


def test_echo_through_cat(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    r = request(wd.port, "POST", "/echo?x=1", body=b"hello, world")
    assert r.status == 200
    assert r.body == b"hello, world"
    assert r.header("Content-Type") == "application/octet-stream"
    assert r.header("X-Duration-Seconds") is None
    wd.wait_for_log(TS + r"Started logging: stderr from function\.$")
    wd.wait_for_log(TS + r"POST /echo\?x=1 - 200 - ContentLength: 12B \(\d+\.\d{4}s\)$")


def test_content_type_is_configurable(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "content_type": "application/json"})
    r = request(wd.port, "POST", "/", body=b"{}")
    assert r.header("Content-Type") == "application/json"


def parse_env(body):
    env = {}
    for line in body.decode().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def test_cgi_environment(start_watchdog):
    wd = start_watchdog({"fprocess": "env"})
    r = request(wd.port, "GET", "/a%20b/c%2Fd?q=1&r=%20x",
                headers={"x-lower-case": "1", "X-Multi": "first", "Method": "DELETE",
                         "Path": "/etc/passwd", "Http-Method": "PUT"})
    assert r.status == 200
    env = parse_env(r.body)
    assert env["Http_Method"] == "GET"
    assert env["Http_Query"] == "q=1&r=%20x"
    assert env["Http_Path"] == "/a b/c/d"
    assert env["Http_X_Lower_Case"] == "1"
    assert env["Http_X_Multi"] == "first"
    assert env["Http_Host"] == "127.0.0.1"
    assert env["Http_Http_Method"] == "PUT"
    assert env["fprocess"] == "env"  # the watchdog's own environment is inherited
    assert "Http_Transfer_Encoding" not in env


def test_cgi_environment_rejects_injection(start_watchdog):
    wd = start_watchdog({"fprocess": "env"})
    # No query string: the original let a `Query` header through as Http_Query.
    r = request(wd.port, "POST", "/p", body=b"abc",
                headers={"Query": "admin=1", "Transfer-Encoding-X": "y"})
    env = parse_env(r.body)
    assert "Http_Query" not in env
    assert env["Http_Content_Length"] == "3"
    assert env["Http_Method"] == "POST"


def test_chunked_request_environment(start_watchdog):
    wd = start_watchdog({"fprocess": "env"})
    r = request(wd.port, "POST", "/", headers={"Transfer-Encoding": "chunked"},
                body=b"3\r\nabc\r\n0\r\n\r\n")
    env = parse_env(r.body)
    assert env["Http_Transfer_Encoding"] == "chunked"
    assert "Http_Content_Length" not in env


def test_first_line_arrives_before_the_function_exits(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("stream_then_wait.sh")})
    c = RawConnection(wd.port)
    try:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n")
        deadline = time.monotonic() + 10
        head = c._read_until(b"\r\n\r\n", deadline)
        assert head.startswith(b"HTTP/1.1 200")
        assert b"transfer-encoding: chunked" in head.lower()
        # The function is still waiting for the end of its stdin, yet its first line is here.
        size = int(c._read_until(b"\r\n", deadline).strip(), 16)
        data = c._read_exact(size + 2, deadline)
        assert data == b"first line\n\r\n"
        c.send(b"0\r\n\r\n")
        rest = b""
        while not rest.endswith(b"0\r\n\r\n"):
            assert c._fill(deadline)
            rest, c.buf = rest + c.buf, b""
        assert b"after stdin closed\n" in rest
    finally:
        c.close()


def test_exit_nonzero_before_output_is_500(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("exit_with.sh") + " 3"})
    r = request(wd.port, "GET", "/fail")
    assert r.status == 500
    assert r.body == b"exit status 3"
    assert r.header("Content-Type").startswith("text/plain")
    wd.wait_for_log(TS + r"exit status 3$")
    wd.wait_for_log(TS + r"GET /fail - 500 - ContentLength: 13B ")


def test_exit_zero_without_output_is_empty_200(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("exit_with.sh") + " 0"})
    r = request(wd.port, "GET", "/")
    assert r.status == 200
    assert r.body == b""
    wd.wait_for_log(TS + r"GET / - 200 - ContentLength: 0B ")


def test_exit_nonzero_after_output_truncates_the_stream(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("exit_with.sh") + " 3 partial"})
    c = RawConnection(wd.port)
    try:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = c.read_until_closed(timeout=10)
    finally:
        c.close()
    assert raw.startswith(b"HTTP/1.1 200")
    assert b"partial" in raw
    assert not raw.endswith(b"0\r\n\r\n")  # no terminating chunk: the client sees an error
    wd.wait_for_log(TS + r"exit status 3$")
    wd.wait_for_log(TS + r"GET / - 500 - ContentLength: 7B ")


def test_exec_timeout_kills_the_process_group(start_watchdog, tmp_path):
    wd = start_watchdog({"fprocess": fixture("group_sleeper.sh"), "exec_timeout": "1s",
                         "PID_DIR": str(tmp_path)})
    t0 = time.monotonic()
    r = request(wd.port, "GET", "/", timeout=15)
    elapsed = time.monotonic() - t0
    assert r.status == 500
    assert r.body == b"signal: killed"
    assert elapsed < 5  # the grandchild holding stdout does not keep the request open
    wait_gone(read_pids(str(tmp_path)))
    wd.wait_for_log(TS + r"signal: killed$")
    wd.wait_for_log(TS + r"GET / - 500 - ")


def test_x_timeout_shortens_exec_timeout(start_watchdog):
    wd = start_watchdog({"fprocess": "sleep 30", "exec_timeout": "30s"})
    t0 = time.monotonic()
    r = request(wd.port, "GET", "/", headers={"X-Timeout": "500ms"}, timeout=15)
    assert r.status == 500
    assert r.body == b"signal: killed"
    assert time.monotonic() - t0 < 5


def test_x_timeout_cannot_lengthen_or_disable(start_watchdog):
    wd = start_watchdog({"fprocess": "sleep 30", "exec_timeout": "500ms"})
    for value in ("0s", "-1s", "60s", "junk"):
        t0 = time.monotonic()
        r = request(wd.port, "GET", "/", headers={"X-Timeout": value}, timeout=15)
        assert r.status == 500, value
        assert time.monotonic() - t0 < 5, value


def test_missing_executable(start_watchdog):
    wd = start_watchdog({"fprocess": "/nonexistent"})
    r = request(wd.port, "POST", "/", body=b"x")
    assert r.status == 500
    assert r.body == b"fork/exec /nonexistent: no such file or directory"
    wd.wait_for_log(TS + r"fork/exec /nonexistent: no such file or directory$")
    wd.wait_for_log(TS + r"POST / - 500 - ")


def test_bare_name_not_in_path(start_watchdog):
    wd = start_watchdog({"fprocess": "no-such-program-xyz"})
    r = request(wd.port, "GET", "/")
    assert r.status == 500
    assert r.body == b'exec: "no-such-program-xyz": executable file not found in $PATH'


def test_client_disconnect_kills_the_function_group(start_watchdog, tmp_path):
    wd = start_watchdog({"fprocess": fixture("group_sleeper.sh"), "exec_timeout": "60s",
                         "PID_DIR": str(tmp_path)})
    c = RawConnection(wd.port)
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    pids = read_pids(str(tmp_path))
    assert all(pid_alive(p) for p in pids)
    c.close()
    wait_gone(pids)
    wd.wait_for_log(TS + r"Killing the function's process group")


def test_stderr_is_relayed_with_prefix(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("stderr_lines.sh")})
    r = request(wd.port, "GET", "/")
    assert r.body == b"ok\n"
    wd.wait_for_log(TS + r"stderr: to stderr$")
    wd.wait_for_log(TS + r"stderr: no newline at the end$")  # flushed at EOF


def test_stderr_is_relayed_raw_without_prefix_logs(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("stderr_lines.sh"), "prefix_logs": "false"})
    request(wd.port, "GET", "/")
    wd.wait_for_log(r"^to stderr$")
    wd.wait_for_log(r"^no newline at the end$")


def test_long_stderr_line_is_split_and_never_blocks(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("stderr_lines.sh"), "prefix_logs": "false",
                         "log_buffer_size": "1000", "exec_timeout": "10s"})
    t0 = time.monotonic()
    r = request(wd.port, "GET", "/", timeout=15)
    assert r.status == 200
    assert r.body == b"ok\n"
    assert time.monotonic() - t0 < 5
    wd.wait_for_log(r"^no newline at the end$")
    lines = wd.lines()
    assert lines.count("a" * 1000) == 100
    assert lines.count("b" * 1000) == 200
    assert sum(1 for line in lines if "log_buffer_size" in line) == 1  # warned once


def test_one_gibibyte_through_cat_in_bounded_memory(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "read_timeout": "120s", "write_timeout": "120s",
                         "exec_timeout": "120s"})
    total = 1 << 30
    c = RawConnection(wd.port, timeout=120)
    try:
        sent_hash, got, received = harness.echo_through(c, total, time.monotonic() + 120)
    finally:
        c.close()
    assert received == total
    assert got.hexdigest() == sent_hash.hexdigest()
    if not harness.SANITIZED:  # ASan's quarantine makes RSS meaningless
        peak_kib = wd.rss_kib(peak=True)
        harness.report("streaming 1 GiB through cat: watchdog peak RSS KiB", peak_kib)
        assert peak_kib < 64 * 1024, f"peak RSS {peak_kib} KiB"


def test_file_descriptors_return_to_start_after_1000_requests(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    before = wd.open_fds()
    for i in range(1000):
        r = request(wd.port, "POST", "/", body=b"%d" % i)
        assert r.status == 200 and r.body == b"%d" % i
    wait_until(lambda: wd.open_fds() == before, timeout=10,
               what=f"fd count back to {before} (now {wd.open_fds()})")
    harness.report("streaming 1000 requests: open fds before/after", f"{before}/{wd.open_fds()}")


def test_keep_alive_serves_requests_in_turn(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    c = RawConnection(wd.port)
    try:
        for body in (b"one", b"two", b""):
            c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            r = c.read_response()
            assert r.status == 200
            assert r.body == body
    finally:
        c.close()


def test_function_that_ignores_a_large_body_still_answers(start_watchdog):
    # Decision C7: leaving stdin unread is not an error; the output is the answer.
    wd = start_watchdog({"fprocess": fixture("exit_with.sh") + " 0 ignored"})
    body = b"z" * (4 << 20)
    c = RawConnection(wd.port, timeout=20)
    errors = []

    def send():
        try:
            c.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
                           + body)
        except OSError as e:  # the server may close once it has answered
            errors.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        r = c.read_response()
        assert r.status == 200
        assert r.body == b"ignored"
    finally:
        sender.join(20)
        c.close()
    wd.wait_for_log(TS + r"POST / - 200 - ContentLength: 7B ")


def test_head_request_runs_the_function_without_a_body(start_watchdog):
    wd = start_watchdog({"fprocess": fixture("exit_with.sh") + " 0 hello"})
    r = request(wd.port, "HEAD", "/")
    assert r.status == 200
    assert r.body == b""


def test_shutdown_kills_a_running_function(start_watchdog, tmp_path):
    wd = start_watchdog({"fprocess": fixture("group_sleeper.sh"), "PID_DIR": str(tmp_path),
                         "exec_timeout": "60s", "write_timeout": "1s",
                         "healthcheck_interval": "0"})
    c = RawConnection(wd.port)
    try:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        pids = read_pids(str(tmp_path))
        wd.signal()
        assert wd.wait_exit(15) == 0
        wait_gone(pids)
    finally:
        c.close()


# --- max_body_size: an upfront Content-Length check only ---------------------------------------

LIMIT = 16


def body_limited(start_watchdog, tmp_path):
    """A watchdog with max_body_size=16 whose function leaves a marker file when it runs."""
    marker = tmp_path / "ran"
    wd = start_watchdog({"max_body_size": str(LIMIT),
                         "fprocess": f'["/bin/sh", "-c", "touch {marker}; cat"]'})
    return wd, marker


def assert_413(r):
    assert r.status == 413
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.body == f"Request body too large: the limit is {LIMIT} bytes".encode()


def test_max_body_size_declared_too_large_is_413_before_the_fork(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    r = harness.request(wd.port, "POST", "/big", body=b"x" * (LIMIT + 1))
    assert_413(r)
    wd.wait_for_log(r"POST /big - 413 - ContentLength: \d+B")
    assert "Started logging: stderr from function." not in "\n".join(wd.lines())
    assert not marker.exists()


def test_max_body_size_exactly_at_the_limit_passes(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    r = harness.request(wd.port, "POST", "/", body=b"y" * LIMIT)
    assert r.status == 200
    assert r.body == b"y" * LIMIT
    assert marker.exists()


def test_max_body_size_does_not_limit_a_chunked_stream(start_watchdog, tmp_path):
    # Documented: a chunked body streams in constant memory, so streaming mode lets it through.
    wd, marker = body_limited(start_watchdog, tmp_path)
    r = harness.request(wd.port, "POST", "/", headers={"Transfer-Encoding": "chunked"},
                        body=b"20\r\n" + b"z" * 32 + b"\r\n0\r\n\r\n")
    assert r.status == 200
    assert r.body == b"z" * 32


def test_max_body_size_expect_continue_gets_413_without_100(start_watchdog, tmp_path):
    wd, marker = body_limited(start_watchdog, tmp_path)
    c = harness.RawConnection(wd.port)
    try:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n")
        r = c.read_response()
        assert_413(r)
        assert c.is_closed()
    finally:
        c.close()
    assert not marker.exists()
