"""cgi_headers=true in mode=wasm (docs/cgi-headers.md): the guest's stdout starts with a CGI
head (Status, Location, other header lines, an empty line), and the client gets that status and
those headers with the rest as the body, held or streamed as usual; a bad head gets a 502 saying
what was wrong, at once, and the guest is stopped.

The module is tests/fixtures/wasm_mode/cgi_tool.c: without an `X-Action` header it copies the
request body to stdout, so most tests write the head in the body. Every test runs on both
engines, as test_wasm_mode.py's do, and every watchdog of this file shares one module cache."""

import hashlib
import os
import re
import shutil
import time

import pytest

import harness
from harness import request, wait_until

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
DURATION = re.compile(r"^\d+\.\d{6}$")
CGI_TOOL = os.path.join(harness.FIXTURES_BUILD, "wasm_mode", "cgi_tool.wasm")
# The static binary (scripts/run-tests --static) loads no compiled modules.
ENGINES = ["interpreter"] if harness.STATIC_BIN else ["aot", "interpreter"]


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("wasm-cache"))


@pytest.fixture
def start_cgi(start_watchdog, tmp_path, cache_dir, engine):
    """Starts a watchdog serving cgi_tool.wasm with cgi_headers=true (unless told otherwise)."""
    root = tmp_path / "wasm_root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(CGI_TOOL, root / "bin" / "cgi_tool.wasm")

    def start(**env):
        settings = {"mode": "wasm", "fprocess": "cgi_tool.wasm", "wasm_root": str(root),
                    "wasm_cache": cache_dir, "wasm_engine": engine, "exec_timeout": "30s",
                    "content_type": "text/plain", "cgi_headers": "true"}
        settings.update(env)
        return start_watchdog({k: str(v) for k, v in settings.items() if v is not None})
    return start


def post(wd, body=b"", action=None, timeout=harness.DEFAULT_WAIT):
    headers = {"X-Action": action} if action else {}
    return request(wd.port, "POST", "/fn", headers=headers, body=body, timeout=timeout)


def metric(wd, pattern):
    text = request(wd.metrics_port, "GET", "/metrics").body.decode()
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else 0.0


def test_the_function_chooses_its_status_and_headers(start_cgi):
    wd = start_cgi()
    r = post(wd, b"Status: 404 Not Found\r\n\r\nno such thing\n")
    assert (r.status, r.body) == (404, b"no such thing\n")
    assert r.header_all("Content-Type") == ["text/plain"]
    assert r.header("Content-Length") == "14"
    assert DURATION.match(r.header("X-Duration-Seconds"))
    r = post(wd, b"Location: /elsewhere\n\n")
    assert (r.status, r.header("Location"), r.body) == (302, "/elsewhere", b"")
    r = post(wd, b"Set-Cookie: a=1; Path=/\nSet-Cookie: b=2\n\nok")
    assert (r.status, r.body) == (200, b"ok")
    assert r.header_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    r = post(wd, b"Content-Type: application/json\n\n{}")
    assert (r.status, r.body) == (200, b"{}")
    assert r.header_all("Content-Type") == ["application/json"]


def test_the_access_line_and_the_metrics_carry_the_functions_status(start_cgi):
    wd = start_cgi()
    assert post(wd, b"Status: 404\n\nno such thing\n").status == 404
    wd.wait_for_log(TS + r"POST /fn - 404 - ContentLength: 14B ")
    wait_until(lambda: metric(wd, r'^http_requests_total\{code="404",method="post"\} (\S+)$') ==
               1, timeout=5, what="the 404 counted")
    assert post(wd, b"Location: /x\n\n").status == 302
    wd.wait_for_log(TS + r"POST /fn - 302 - ")


def test_a_function_that_prints_nothing_gets_the_usual_empty_200(start_cgi):
    wd = start_cgi()
    r = post(wd, b"")
    assert (r.status, r.body) == (200, b"")
    assert r.header("Content-Length") == "0"
    assert r.header("Content-Type") == "text/plain"


@pytest.mark.parametrize("size", [100, 1 << 20])
def test_the_body_after_the_head_is_held_or_streamed(start_cgi, size):
    wd = start_cgi()
    expected = bytes(i % 251 for i in range(size))
    r = post(wd, action=f"body:{size}", timeout=30)
    assert (r.status, r.header("Content-Type")) == (201, "application/octet-stream")
    assert hashlib.sha256(r.body).hexdigest() == hashlib.sha256(expected).hexdigest()
    if size < 65536:
        assert r.header("Content-Length") == str(size)
    else:
        # Past the 64 KiB held, the head goes with the first of the body and the rest streams.
        assert r.header("Transfer-Encoding") == "chunked"
    # The head split over the module's reads of the request body is read the same.
    body = os.urandom(300_000)
    r = post(wd, b"Status: 203\r\nX-Echo: yes\r\n\r\n" + body, timeout=30)
    assert (r.status, r.header("X-Echo")) == (203, "yes")
    assert r.body == body


@pytest.mark.parametrize("body,action,problem", [
    (b"no colon here\n\nbody", None, "line 1 is not a header field (Name: value)"),
    (b"Status: 700\n\n", None, "Status 700 is outside 100-599"),
    (b"Content-Length: 5\n\nhello", None,
     "Content-Length is the watchdog's to set, not the function's"),
    (b"", "head-forever", "the head is longer than 65536 bytes, or has no empty line to end it"),
])
def test_a_bad_head_is_a_502_and_the_guest_is_stopped(start_cgi, body, action, problem):
    # One instance: the request after the 502 runs only once the guest is stopped.
    wd = start_cgi(wasm_instances=1)
    started = time.monotonic()
    r = post(wd, body, action=action, timeout=25)
    assert (r.status, r.body) == (
        502, f"Bad Gateway: the function's CGI head is not valid: {problem}\n".encode())
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    wd.wait_for_log(TS + re.escape(f"Function's CGI head is not valid: {problem}") + "$")
    wd.wait_for_log(TS + r"POST /fn - 502 - ")
    r = post(wd, b"Status: 404\n\nnext\n", timeout=25)
    assert (r.status, r.body) == (404, b"next\n")
    # head-forever never ends by itself: only the stop frees the instance before exec_timeout.
    assert time.monotonic() - started < 20
    # The stop is not a failure of the function's: no 500, no line of the interruption.
    assert not any(line.endswith("interrupted") for line in wd.lines())


def test_output_that_ends_inside_the_head_is_a_502(start_cgi):
    wd = start_cgi()
    r = post(wd, b"Status: 404\nX-Half: 1")
    assert (r.status, r.body) == (
        502, b"Bad Gateway: the function's output ended inside its CGI head\n")
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    wd.wait_for_log(TS + r"Function's output ended inside its CGI head$")
    wd.wait_for_log(TS + r"POST /fn - 502 - ")


@pytest.mark.parametrize("body", [b"Status: 404\n\nbody\n", b"X-Inside: the head"])
def test_a_failing_function_is_a_500_with_or_without_its_head(start_cgi, body):
    wd = start_cgi()
    r = post(wd, body, action="then-exit:3")
    assert (r.status, r.body) == (500, b"exit status 3")
    r = post(wd, body, action="then-trap")
    assert (r.status, r.body) == (500, b"wasm trap: unreachable")
    wd.wait_for_log(TS + r"POST /fn - 500 - ")


def test_without_cgi_headers_the_head_is_body(start_cgi):
    wd = start_cgi(cgi_headers=None)
    head = b"Status: 404\r\nX-A: 1\r\n\r\nbody"
    r = post(wd, head)
    assert (r.status, r.body) == (200, head)
    assert r.header("X-A") is None
