"""examples/embed: a C++ runtime that links libofwatchdog and serves the function in-process."""

import os
import signal

import harness
from harness import RawConnection, request, wait_until


def start_embed(start_watchdog, **env):
    return start_watchdog(env, binary=harness.example_binary("embed-example"))


def test_handler_answers_with_the_watchdog_around_it(start_watchdog):
    wd = start_embed(start_watchdog)
    r = request(wd.port, "GET", "/greet?x=1")
    assert r.status == 200
    assert r.body == b"Hello from an embedded ofwatchdog handler: GET /greet\n"
    # Health, readiness and the lock file come from the watchdog.
    assert request(wd.port, "GET", "/_/health").body == b"OK"
    assert request(wd.port, "GET", "/_/ready").status == 200
    assert os.path.exists(wd.lock_path)
    wd.wait_for_log(r"GET /greet\?x=1 - 200 - ContentLength: 54B \(\d+\.\d{4}s\)")
    # Requests are counted in the metrics like any function request.
    def counted():
        m = request(wd.metrics_port, "GET", "/metrics").body.decode()
        return 'http_requests_total{code="200",method="get"} 1' in m
    wait_until(counted, what="request counted in metrics")


def test_streamed_body_in_constant_memory(start_watchdog):
    wd = start_embed(start_watchdog)
    size = 64 * 1024 * 1024
    status, head, body = harness.upper_echo_chunked(wd.port, size)
    assert status == 200
    assert len(body) == size
    assert body == b"ABCDEFGH" * (size // 8)
    if not harness.SANITIZED:
        assert wd.rss_kib(peak=True) < 48 * 1024


def test_exec_timeout_cancels_the_handler_and_answers_504(start_watchdog):
    wd = start_embed(start_watchdog, exec_timeout="5s")
    r = request(wd.port, "GET", "/slow", headers={"X-Timeout": "200ms"})
    assert r.status == 504
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    wd.wait_for_log(r"slow request cancelled: exec timeout")
    wd.wait_for_log(r"GET /slow - 504 - ContentLength: 0B")


def test_graceful_drain_and_exit(start_watchdog):
    wd = start_embed(start_watchdog, healthcheck_interval="0s")
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=10) == 0
    assert not os.path.exists(wd.lock_path)


def test_max_body_size_holds_for_the_loop_thread_handler(start_watchdog):
    wd = start_embed(start_watchdog, max_body_size="1000")
    r = request(wd.port, "POST", "/upper", body=b"x" * 1001)
    assert r.status == 413
    assert r.body == b"Request body too large: the limit is 1000 bytes"
    wd.wait_for_log(r"POST /upper - 413 - ")
    # A chunked body passes the limit after /upper sent its head: the answer is cut short.
    c = RawConnection(wd.port)
    c.send(b"POST /upper HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3e8\r\n" + b"y" * 1000 + b"\r\n1\r\nz\r\n0\r\n\r\n")
    data = c.read_until_closed()
    c.close()
    assert data.startswith(b"HTTP/1.1 200")
    assert not data.endswith(b"\r\n0\r\n\r\n")
    assert request(wd.port, "POST", "/upper", body=b"x" * 1000).body == b"X" * 1000
