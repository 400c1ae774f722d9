"""examples/function_coroutine: requests served by C++20 coroutines on the loop
(make_coroutine_mode), with the watchdog's 413, 504, 500, access line and drain around them."""

import os
import signal

import harness
from harness import RawConnection, request


def start_coroutines(start_watchdog, **env):
    return start_watchdog(env, binary=harness.example_binary("function-coroutine-example"))


def greet_works(wd):
    r = request(wd.port, "GET", "/again")
    assert r.status == 200
    assert r.body == b"Hello from a coroutine: GET /again\n"


def test_greeting_with_the_access_line(start_watchdog):
    wd = start_coroutines(start_watchdog)
    r = request(wd.port, "GET", "/greet?x=1")
    assert r.status == 200
    assert r.header("Content-Type") == "text/plain"
    assert r.body == b"Hello from a coroutine: GET /greet\n"
    wd.wait_for_log(r"GET /greet\?x=1 - 200 - ContentLength: 35B \(\d+\.\d{4}s\)")


def test_unread_body_keeps_the_connection(start_watchdog):
    # The greeting never reads its body: the server discards it, and the connection goes on.
    wd = start_coroutines(start_watchdog)
    c = RawConnection(wd.port)
    c.send(b"POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" + b"x" * 10000)
    assert c.read_response().body == b"Hello from a coroutine: POST /first\n"
    c.send(b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.read_response().body == b"Hello from a coroutine: GET /second\n"
    c.close()


def test_streamed_body_in_constant_memory(start_watchdog):
    wd = start_coroutines(start_watchdog)
    size = 64 * 1024 * 1024
    status, head, body = harness.upper_echo_chunked(wd.port, size)
    assert status == 200
    assert "Content-Type: text/plain" in head
    assert len(body) == size
    assert body == b"ABCDEFGH" * (size // 8)
    if not harness.SANITIZED:
        assert wd.rss_kib(peak=True) < 48 * 1024


def test_exec_timeout_cancels_the_coroutine_and_answers_504(start_watchdog):
    wd = start_coroutines(start_watchdog, exec_timeout="5s")
    r = request(wd.port, "GET", "/slow", headers={"X-Timeout": "200ms"})
    assert r.status == 504
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    wd.wait_for_log(r"slow request cancelled: exec timeout")
    wd.wait_for_log(r"GET /slow - 504 - ContentLength: 0B")
    greet_works(wd)


def test_declared_body_over_the_limit_gets_413_before_the_coroutine(start_watchdog):
    wd = start_coroutines(start_watchdog, max_body_size="1000")
    r = request(wd.port, "POST", "/upper", body=b"x" * 5000)
    assert r.status == 413
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert r.body == b"Request body too large: the limit is 1000 bytes"
    # The log is one ordered stream: once the next request's line is in, the handler's would be.
    greet_works(wd)
    wd.wait_for_log(r"GET /again - 200")
    assert not any("upper-casing" in line for line in wd.lines())


def test_chunked_body_over_the_limit_gets_413_and_cancels_the_coroutine(start_watchdog):
    wd = start_coroutines(start_watchdog, max_body_size="1000")
    c = RawConnection(wd.port)
    c.send(b"POST /upper HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"1388\r\n" + b"x" * 5000 + b"\r\n0\r\n\r\n")
    r = c.read_response()
    c.close()
    assert r.status == 413
    assert r.body == b"Request body too large: the limit is 1000 bytes"
    wd.wait_for_log(r"upper request cancelled: request body too large")
    greet_works(wd)


def test_client_leaving_mid_body_cancels_the_coroutine(start_watchdog):
    wd = start_coroutines(start_watchdog)
    c = RawConnection(wd.port)
    c.send(b"POST /upper HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    c.wait_for_bytes(b"ABC")  # the coroutine has answered the first piece and awaits the next
    c.close()
    wd.wait_for_log(r"upper request cancelled: client closed the connection")
    greet_works(wd)


def test_exception_becomes_500_with_a_fixed_text(start_watchdog):
    wd = start_coroutines(start_watchdog)
    r = request(wd.port, "GET", "/throw")
    assert r.status == 500
    assert r.body == b"Internal Server Error: the function failed\n"
    wd.wait_for_log(r"Function failed: the coroutine threw on purpose")
    wd.wait_for_log(r"GET /throw - 500")
    greet_works(wd)


def test_graceful_drain_and_exit(start_watchdog):
    wd = start_coroutines(start_watchdog, healthcheck_interval="0s")
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=10) == 0
    assert not os.path.exists(wd.lock_path)


def test_drain_cancels_a_waiting_coroutine(start_watchdog):
    # No exec_timeout: the request would wait for ever. The drain lasts write_timeout, so the
    # request's own write timeout usually cancels it just before the drain's end would.
    wd = start_coroutines(start_watchdog, healthcheck_interval="0s", write_timeout="300ms")
    c = RawConnection(wd.port)
    c.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    wd.wait_for_log(r"slow request waiting until cancelled")
    wd.signal(signal.SIGTERM)
    wd.wait_for_log(r"slow request cancelled: (write timeout|shutdown)")
    assert wd.wait_exit(timeout=10) == 0
    c.close()
