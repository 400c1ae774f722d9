"""cgi_headers=true in the forking modes (docs/cgi-headers.md): a shell function prints a CGI
head (Status, Location, other header lines, an empty line) before its body, and the client gets
that status and those headers; a bad head gets a 502 saying what was wrong and the function is
killed. tests/fixtures/cgi_head.sh picks the head by the request's path."""

import os
import re
import time

import pytest

import harness
from harness import RawConnection, request

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
MODES = ["streaming", "serializing"]


@pytest.fixture(params=MODES)
def cgi(request, start_watchdog, tmp_path):
    release = tmp_path / "release"
    wd = start_watchdog({"mode": request.param, "cgi_headers": "true", "exec_timeout": "60s",
                         "fprocess": f"{harness.fixture('cgi_head.sh')} {release}"})
    wd.mode = request.param
    wd.release = release
    return wd


def metric(wd, pattern):
    text = request(wd.metrics_port, "GET", "/metrics").body.decode()
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else 0.0


def test_the_function_chooses_its_status_and_headers(cgi):
    r = request(cgi.port, "GET", "/not-found")
    assert (r.status, r.body) == (404, b"no such thing\n")
    assert r.header_all("Content-Type") == ["text/plain"]
    # The reason phrase is the standard one: the function's is not sent on.
    r = request(cgi.port, "GET", "/teapot")
    assert (r.status, r.body) == (418, b"short and stout\n")
    assert r.header("Content-Type") == "application/octet-stream"
    r = request(cgi.port, "GET", "/redirect")
    assert (r.status, r.header("Location"), r.body) == (302, "/elsewhere", b"")
    r = request(cgi.port, "GET", "/cookies")
    assert r.status == 200
    assert r.header_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert r.header_all("X-Empty") == [""]
    r = request(cgi.port, "POST", "/echo", body=b"the request body")
    assert (r.status, r.body) == (200, b"the request body")
    assert r.header_all("Content-Type") == ["text/x-echo"]


def test_the_access_line_and_the_metrics_carry_the_functions_status(cgi):
    before = metric(cgi, r'^http_requests_total\{code="404",method="get"\} (\S+)$')
    assert request(cgi.port, "GET", "/not-found").status == 404
    cgi.wait_for_log(TS + r"GET /not-found - 404 - ContentLength: 14B ")
    harness.wait_until(
        lambda: metric(cgi, r'^http_requests_total\{code="404",method="get"\} (\S+)$') ==
        before + 1, what="the 404 counted")
    assert request(cgi.port, "GET", "/redirect").status == 302
    cgi.wait_for_log(TS + r"GET /redirect - 302 - ")


def test_a_function_that_prints_nothing_gets_the_usual_empty_200(cgi):
    r = request(cgi.port, "GET", "/nothing")
    assert (r.status, r.body) == (200, b"")


@pytest.mark.parametrize("path,problem", [
    ("/not-header", "line 1 is not a header field (Name: value)"),
    ("/status-700", "Status 700 is outside 100-599"),
    ("/length", "Content-Length is the watchdog's to set, not the function's"),
    ("/long-head", "the head is longer than 65536 bytes, or has no empty line to end it"),
])
def test_a_bad_head_is_a_502_and_the_function_is_killed(cgi, path, problem):
    started = time.monotonic()
    r = request(cgi.port, "GET", path, timeout=30)
    # Each of these functions would sleep 30 s after its head: the answer does not wait.
    assert time.monotonic() - started < 20
    assert r.status == 502 and r.header("X-OpenFaaS-Internal") == "of-watchdog"
    assert r.body.decode() == f"Bad Gateway: the function's CGI head is not valid: {problem}\n"
    cgi.wait_for_log(re.escape(f"Function's CGI head is not valid: {problem}"))
    cgi.wait_for_log(r"Killing the function's process group: its CGI head is not valid")
    cgi.wait_for_log(TS + re.escape(f"GET {path} - 502 - "))
    harness.wait_until(lambda: harness.child_pids(cgi.proc.pid) == [],
                       what="the function reaped")
    assert request(cgi.port, "GET", "/not-found").status == 404


def test_output_that_ends_inside_the_head_is_a_502(cgi):
    r = request(cgi.port, "GET", "/unfinished")
    assert (r.status, r.body) == (
        502, b"Bad Gateway: the function's output ended inside its CGI head\n")
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    cgi.wait_for_log(r"Function's output ended inside its CGI head")


def test_streaming_sends_the_head_before_the_body_is_written(start_watchdog, tmp_path):
    release = tmp_path / "release"
    wd = start_watchdog({"mode": "streaming", "cgi_headers": "true",
                         "fprocess": f"{harness.fixture('cgi_head.sh')} {release}"})
    c = RawConnection(wd.port)
    try:
        c.send(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        # The function waits for the file before its body: the head must be here already.
        c.wait_for_bytes(b"\r\n\r\n")
        head = bytes(c.buf)
        assert head.startswith(b"HTTP/1.1 202 ")
        assert b"\r\nX-Stage: head\r\n" in head
        release.touch()
        r = c.read_response()
        assert (r.status, r.body) == (202, b"body after the head\n")
    finally:
        c.close()


def test_a_large_body_after_the_head_streams_through(start_watchdog):
    wd = start_watchdog({"mode": "streaming", "cgi_headers": "true",
                         "fprocess": harness.fixture("cgi_head.sh")})
    body = os.urandom(8 * 1024 * 1024)
    r = request(wd.port, "POST", "/echo", body=body, timeout=60)
    assert r.status == 200 and r.header("Content-Type") == "text/x-echo"
    assert r.body == body


def test_without_cgi_headers_the_head_is_part_of_the_body(start_watchdog):
    wd = start_watchdog({"mode": "streaming", "fprocess": harness.fixture("cgi_head.sh")})
    r = request(wd.port, "GET", "/not-found")
    assert r.status == 200
    assert r.body == b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such thing\n"
