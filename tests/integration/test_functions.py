"""The function API (docs/functions.md) through its three examples: a C++ function given the
request whole (examples/function), a C++ streaming function (examples/function_stream) and a C
function on the C ABI (examples/function_c). Each runs on worker threads and gets the same
services: max_body_size, exec_timeout, 429 when busy, a 500 for a failure, the drain."""

import os
import signal
import socket

import pytest

import harness
from harness import RawConnection, request, wait_until

WAYS = {
    "whole": "function-example",
    "stream": "function-stream-example",
    "c": "function-c-example",
}


def start(start_watchdog, way, wait_ready=True, **env):
    return start_watchdog(env, binary=harness.example_binary(WAYS[way]), wait_ready=wait_ready)


def metric(wd, name):
    text = request(wd.metrics_port, "GET", "/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def start_slow(wd, timeout="10s"):
    """Opens a /slow request that holds a worker until its connection closes or it times out;
    returns the connection once a worker is busy with it."""
    c = RawConnection(wd.port)
    c.send(f"GET /slow HTTP/1.1\r\nHost: x\r\nX-Timeout: {timeout}\r\n\r\n".encode())
    wait_until(lambda: metric(wd, "function_busy_threads") == 1, what="a worker busy")
    return c


@pytest.mark.parametrize("way", WAYS)
def test_answers_with_the_watchdog_around_it(start_watchdog, way):
    wd = start(start_watchdog, way)
    r = request(wd.port, "GET", "/greet?x=1")
    assert r.status == 200
    assert r.body.startswith(b"Hello from a")
    assert r.header("Content-Length") == str(len(r.body))
    assert request(wd.port, "GET", "/_/health").body == b"OK"
    assert os.path.exists(wd.lock_path)
    wd.wait_for_log(r"GET /greet\?x=1 - 200 - ContentLength: \d+B \(\d+\.\d{4}s\)")

    def counted():
        m = request(wd.metrics_port, "GET", "/metrics").body.decode()
        return 'http_requests_total{code="200",method="get"} 1' in m
    wait_until(counted, what="request counted in metrics")
    assert metric(wd, "function_threads") >= 1


def test_the_whole_body_function_gets_the_call_id_and_its_time_left(start_watchdog):
    wd = start(start_watchdog, "whole", exec_timeout="2s")
    r = request(wd.port, "GET", "/", headers={"X-Call-Id": "call-7"})
    assert r.header("X-Call-Id") == "call-7"
    left = int(r.body.decode().split("(")[1].split(" ms")[0])
    assert 0 < left <= 2000
    r = request(wd.port, "GET", "/", headers={"X-Timeout": "500ms"})
    assert 0 < int(r.body.decode().split("(")[1].split(" ms")[0]) <= 500


@pytest.mark.parametrize("way", WAYS)
def test_upper_echo(start_watchdog, way):
    wd = start(start_watchdog, way)
    body = b"hello, function " * 4096
    r = request(wd.port, "POST", "/upper", body=body)
    assert r.status == 200
    assert r.body == body.upper()


@pytest.mark.parametrize("way", ["stream", "c"])
def test_streaming_body_in_constant_memory(start_watchdog, way):
    wd = start(start_watchdog, way)
    size = 64 * 1024 * 1024
    status, head, body = harness.upper_echo_chunked(wd.port, size)
    assert status == 200
    assert len(body) == size
    assert body == b"ABCDEFGH" * (size // 8)
    if not harness.SANITIZED:
        rss = wd.rss_kib(peak=True)
        harness.report(f"function {way} 64 MiB echo peak RSS KiB", rss)
        assert rss < 48 * 1024


@pytest.mark.parametrize("way", WAYS)
def test_a_declared_body_over_max_body_size_is_refused_before_the_function(start_watchdog, way):
    wd = start(start_watchdog, way, max_body_size="1024")
    r = request(wd.port, "POST", "/upper", body=b"x" * 1025)
    assert r.status == 413
    assert r.body == b"Request body too large: the limit is 1024 bytes"
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert request(wd.port, "POST", "/upper", body=b"x" * 1024).body == b"X" * 1024
    wd.wait_for_log(r"POST /upper - 413 - ContentLength: \d+B")


@pytest.mark.parametrize("way", WAYS)
def test_a_chunked_body_over_max_body_size_is_refused(start_watchdog, way):
    wd = start(start_watchdog, way, max_body_size="100000")
    c = RawConnection(wd.port)
    c.send(b"POST /greet HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"y" * 60000
    c.send(b"%x\r\n" % len(piece) + piece + b"\r\n" + b"%x\r\n" % len(piece) + piece + b"\r\n"
           + b"0\r\n\r\n")
    r = c.read_response()
    c.close()
    if way == "whole":
        assert r.status == 413
        assert r.body == b"Request body too large: the limit is 100000 bytes"
    # The streaming examples answer /greet without reading the body: the limit is for what is
    # read, so they may answer 200 first. Either way the watchdog is not hurt.
    assert request(wd.port, "GET", "/greet").status == 200


@pytest.mark.parametrize("way", ["stream", "c"])
def test_a_streamed_body_over_max_body_size_cuts_the_answer(start_watchdog, way):
    # /upper has sent its head before the body passes the limit: the answer is cut short.
    wd = start(start_watchdog, way, max_body_size="100000")
    c = RawConnection(wd.port)
    c.send(b"POST /upper HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"y" * 60000
    c.send(b"%x\r\n" % len(piece) + piece + b"\r\n" + b"%x\r\n" % len(piece) + piece + b"\r\n"
           + b"0\r\n\r\n")
    data = c.read_until_closed()
    c.close()
    assert data.startswith(b"HTTP/1.1 200")
    assert not data.endswith(b"\r\n0\r\n\r\n")
    wd.wait_for_log(r"Request body too large: the limit is 100000 bytes")
    assert request(wd.port, "GET", "/greet").status == 200


@pytest.mark.parametrize("way", WAYS)
def test_exec_timeout_stops_the_call_and_answers_504(start_watchdog, way):
    wd = start(start_watchdog, way, exec_timeout="5s")
    r = request(wd.port, "GET", "/slow", headers={"X-Timeout": "200ms"})
    assert r.status == 504
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    wd.wait_for_log(r"slow call stopped")
    wd.wait_for_log(r"GET /slow - 504 - ContentLength: 0B")
    assert request(wd.port, "GET", "/greet").status == 200


@pytest.mark.parametrize("way", WAYS)
def test_a_client_that_leaves_stops_the_call(start_watchdog, way):
    wd = start(start_watchdog, way, inproc_threads="1")
    c = start_slow(wd)
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    wd.wait_for_log(r"slow call stopped")
    wait_until(lambda: metric(wd, "function_busy_threads") == 0, what="the worker free again")
    assert request(wd.port, "GET", "/greet").status == 200


@pytest.mark.parametrize("way", WAYS)
def test_a_full_queue_answers_429(start_watchdog, way):
    wd = start(start_watchdog, way, inproc_threads="1", inproc_queue="0")
    c = start_slow(wd)
    r = request(wd.port, "GET", "/greet")
    assert r.status == 429
    assert r.header("Retry-After") == "1"
    assert metric(wd, "function_requests_refused_total") == 1
    c.close()
    wait_until(lambda: metric(wd, "function_busy_threads") == 0, what="the worker free again")
    assert request(wd.port, "GET", "/greet").status == 200


@pytest.mark.parametrize("way", WAYS)
def test_a_deadline_that_passes_in_the_queue_answers_504(start_watchdog, way):
    wd = start(start_watchdog, way, inproc_threads="1", inproc_queue="4")
    c = start_slow(wd)
    r = request(wd.port, "GET", "/greet", headers={"X-Timeout": "200ms"})
    assert r.status == 504
    assert metric(wd, "function_queued_requests") == 0
    c.close()


@pytest.mark.parametrize("way", WAYS)
def test_a_failing_function_is_a_500_and_the_next_call_works(start_watchdog, way):
    wd = start(start_watchdog, way)
    r = request(wd.port, "GET", "/fail")
    assert r.status == 500
    assert r.body == b"Internal Server Error: the function failed\n"
    wd.wait_for_log(r"Function failed: ")
    wd.wait_for_log(r"GET /fail - 500 - ")
    assert request(wd.port, "GET", "/greet").status == 200


@pytest.mark.parametrize("way", ["whole", "c"])
def test_the_setup_runs_once_before_the_port_is_bound(start_watchdog, way, tmp_path):
    greeting = tmp_path / "greeting"
    greeting.write_text("Howdy\n")
    wd = start(start_watchdog, way, GREETING_FILE=str(greeting))
    assert request(wd.port, "GET", "/greet").body.startswith(b"Howdy")


@pytest.mark.parametrize("way", ["whole", "c"])
def test_a_failing_setup_stops_start_up(start_watchdog, way, tmp_path):
    wd = start(start_watchdog, way, GREETING_FILE=str(tmp_path / "missing"), wait_ready=False)
    assert wd.wait_exit() == 1
    assert any("GREETING_FILE" in line for line in wd.lines())
    assert not any("Listening on port" in line for line in wd.lines())


@pytest.mark.parametrize("value", ["0", "many", "5000"])
def test_a_bad_thread_count_stops_start_up_naming_the_variable(start_watchdog, value):
    wd = start(start_watchdog, "whole", inproc_threads=value, wait_ready=False)
    assert wd.wait_exit() == 1
    assert any(f"invalid value {value} for inproc_threads" in line for line in wd.lines())


@pytest.mark.parametrize("way", WAYS)
def test_sigterm_drains_a_call_in_flight(start_watchdog, way):
    wd = start(start_watchdog, way, healthcheck_interval="0s")
    c = RawConnection(wd.port)
    c.send(b"POST /upper HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
    # A whole-body call reads its body before a worker takes it: the request is in flight.
    wait_until(lambda: metric(wd, "http_requests_in_flight") == 1, what="a request in flight")
    wd.signal(signal.SIGTERM)
    wd.wait_for_log(r"SIGTERM")
    c.send(b"world")
    r = c.read_response()
    c.close()
    assert r.status == 200
    assert r.body == b"HELLOWORLD"
    assert wd.wait_exit() == 0


def test_the_c_function_threads_run_their_hooks(start_watchdog):
    wd = start(start_watchdog, "c", inproc_threads="3", healthcheck_interval="0s")
    wait_until(lambda: sum("function thread started" in l for l in wd.lines()) == 3,
               what="three threads started")
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit() == 0
    assert sum("function thread stopped" in l for l in wd.lines()) == 3


@pytest.mark.parametrize("way", WAYS)
def test_the_end_of_the_drain_stops_a_call_that_will_not_end(start_watchdog, way):
    wd = start(start_watchdog, way, healthcheck_interval="0s", write_timeout="1s",
               inproc_threads="1")
    c = start_slow(wd, timeout="30s")
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=15) == 0
    assert any("slow call stopped" in line for line in wd.lines())
    c.close()


def test_a_whole_body_that_finds_the_queue_full_when_it_ends_answers_429(start_watchdog):
    # Calls still reading their bodies hold no place in the queue; one whose body ends when the
    # pool has no room left gets the same 429 as a request refused on arrival.
    wd = start(start_watchdog, "whole", inproc_threads="1", inproc_queue="1")
    slow = start_slow(wd)
    readers = []
    for _ in range(4):
        c = RawConnection(wd.port)
        c.send(b"POST /upper HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\na")
        readers.append(c)
    wait_until(lambda: metric(wd, "http_requests_in_flight") == 5, what="five requests in flight")
    for i, c in enumerate(readers[:3]):
        c.send(b"b")
        wait_until(lambda i=i: metric(wd, "function_queued_requests") == i + 1,
                   what=f"{i + 1} queued")
    readers[3].send(b"b")
    r = readers[3].read_response()
    assert r.status == 429
    assert r.header("Retry-After") == "1"
    assert metric(wd, "function_requests_refused_total") == 1
    slow.close()
    for c in readers[:3]:
        assert c.read_response().body == b"AB"
        c.close()
    readers[3].close()
