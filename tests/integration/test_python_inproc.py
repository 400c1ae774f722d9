"""fwatchdog-python (docs/python.md): a python3-http handler called in-process by the watchdog
with CPython embedded. The same handler file runs under templates/python3-http (Flask on
waitress behind mode=http) and here, and both give the same answers; then the failures, the
timeout, the threads and the drain."""

import concurrent.futures
import json
import os
import shutil
import signal
import time

import pytest

import harness
from harness import request

PYTHON_BIN = harness.PYTHON_BIN
TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "..", "templates")
HANDLERS = os.path.join(harness.FIXTURES, "python")

pytestmark = pytest.mark.skipif(not PYTHON_BIN or not os.path.exists(PYTHON_BIN),
                                reason="fwatchdog-python is built only with libpython3.11-dev")

# Debian's python3 for the Flask side (it has python3-flask and python3-waitress), not another
# python3 earlier in this machine's PATH.
DEBIAN_PATH = "/usr/bin:/bin:" + os.environ.get("PATH", "")


def launcher_env(extra=None):
    env = {"healthcheck_interval": "0"}
    if harness.SANITIZED:
        # CPython frees not everything at its end by design; the leak check would fail on it.
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    env.update(extra or {})
    return env


def function_dir(tmp_path, handler="function/handler.py", name="inproc"):
    """A working directory holding function/handler.py, as the template's image has."""
    directory = tmp_path / name
    (directory / "function").mkdir(parents=True)
    shutil.copy(os.path.join(HANDLERS, handler), directory / "function" / "handler.py")
    return directory


def start_launcher(start_watchdog, directory, env=None, **kwargs):
    return start_watchdog(launcher_env(env), binary=PYTHON_BIN,
                          popen_options={"cwd": str(directory)}, **kwargs)


@pytest.fixture
def inproc(start_watchdog, tmp_path):
    return start_launcher(start_watchdog, function_dir(tmp_path))


@pytest.fixture
def failing(start_watchdog, tmp_path):
    directory = function_dir(tmp_path, "failing_handler.py", "failing")
    return start_launcher(start_watchdog, directory, {"exec_timeout": "1s"})


# --- the same handler under python3-http and python3-inproc ----------------------------------

BINARY = os.urandom(64 * 1024)
TEN_MIB = os.urandom(10 * 1024 * 1024)
# What each side must agree on, besides status and body (Date and Server are each server's own).
COMPARED = ("Content-Type", "Content-Length", "Location", "Set-Cookie", "X-Seen", "X-Sha256")
CASES = [
    ("GET", "/query?a=1&a=2&b=%C3%A9+x&empty=", {}, b""),
    ("POST", "/echo", {"Content-Type": "application/octet-stream"}, TEN_MIB),
    ("POST", "/echo", {}, BINARY),
    # UTF-8 on the wire: both read it as Latin-1, as WSGI does, and send the same bytes back.
    ("GET", "/headers", {"X-Name": "café".encode().decode("latin-1")}, b""),
    ("GET", "/string", {}, b""),
    ("GET", "/bytes", {}, b""),
    ("GET", "/none", {}, b""),
    ("GET", "/missing", {}, b""),
    ("GET", "/redirect", {}, b""),
    ("GET", "/cookies", {}, b""),
    ("GET", "/list", {}, b""),
    ("PUT", "/a%20b/c", {}, b"put body"),
    ("DELETE", "/thing", {}, b""),
    ("PATCH", "/", {}, b"x" * 1000),
]


def summary(response):
    return (response.status, {name: response.header_all(name) for name in COMPARED},
            response.body)


def test_the_same_handler_gives_the_same_answers_under_python3_http(start_watchdog, tmp_path):
    template = tmp_path / "python3-http"
    shutil.copytree(os.path.join(TEMPLATES, "python3-http"), template)
    shutil.copy(os.path.join(HANDLERS, "function", "handler.py"),
                template / "function" / "handler.py")
    flask = start_watchdog({"mode": "http", "fprocess": "python3 index.py",
                            "upstream_url": "http://127.0.0.1:5000", "ready_path": "/_/ready",
                            "PATH": DEBIAN_PATH, "healthcheck_interval": "0"},
                           popen_options={"cwd": str(template)})
    harness.wait_until(lambda: request(flask.port, "GET", "/_/ready").status == 200, timeout=20,
                       what="the Flask app ready")
    inproc = start_launcher(start_watchdog, function_dir(tmp_path))
    for method, path, headers, body in CASES:
        expected = summary(request(flask.port, method, path, headers, body, timeout=30))
        got = summary(request(inproc.port, method, path, headers, body, timeout=30))
        assert got == expected, f"{method} {path}"
    # A key the request lacks, read with []: 400 from both (Flask's page is HTML, ours text).
    assert request(flask.port, "GET", "/key").status == 400
    assert request(inproc.port, "GET", "/key").status == 400


def test_the_answers_are_what_the_handler_chose(inproc):
    r = request(inproc.port, "GET", "/query?a=1&a=2&b=%C3%A9+x")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    assert json.loads(r.body) == {"first": "1", "all": ["1", "2"],
                                  "flat": {"a": "1", "b": "é x"}, "names": ["a", "b"]}
    r = request(inproc.port, "GET", "/headers", {"X-Name": "café".encode().decode("latin-1")})
    assert r.header("X-Seen") == "café".encode().decode("latin-1")
    r = request(inproc.port, "GET", "/cookies")
    assert (r.status, r.header_all("Set-Cookie")) == (201, ["a=1", "b=2"])
    r = request(inproc.port, "GET", "/none")
    assert (r.status, r.body) == (200, b"")
    r = request(inproc.port, "PUT", "/a%20b/c", body=b"12345")
    assert r.body == b"PUT /a b/c 5"
    r = request(inproc.port, "POST", "/echo", body=TEN_MIB, timeout=30)
    assert r.status == 200 and r.body == TEN_MIB


def test_sixteen_slow_handlers_run_at_once(inproc):
    # Each call waits at a barrier of 16 (20 s at most) and answers only when all 16 are there:
    # with fewer threads, or a GIL held while a handler waits, they would all answer 500.
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: request(inproc.port, "GET", "/overlap", timeout=30),
                                range(16)))
    assert [(r.status, r.body) for r in answers] == [(200, b"met")] * 16


# --- failures ----------------------------------------------------------------------------------

def test_an_exception_is_a_500_with_the_traceback_in_the_log(failing):
    r = request(failing.port, "GET", "/raise")
    assert (r.status, r.body) == (500, b"Internal Server Error: the function failed\n")
    failing.wait_for_log(r"Traceback \(most recent call last\)")
    failing.wait_for_log(r"ZeroDivisionError: division by zero")
    failing.wait_for_log(r"Function failed: the handler raised ZeroDivisionError: division by "
                         r"zero")
    assert request(failing.port, "GET", "/").body == b"ok"
    # sys.exit in a handler is its failure, not the watchdog's end.
    assert request(failing.port, "GET", "/exit").status == 500
    failing.wait_for_log(r"Function failed: the handler raised SystemExit: 3")
    assert request(failing.port, "GET", "/").status == 200


@pytest.mark.parametrize("path,why", [
    ("/status", r"statusCode 700 is outside 100-599"),
    ("/crlf", r"the value of header X-Bad has a CR, LF or NUL in it"),
    ("/int-body", r"body is a int, not bytes or str"),
    ("/owned", r"header Content-Length is the watchdog's to set"),
])
def test_an_answer_that_is_not_valid_is_a_500_naming_what_was_wrong(failing, path, why):
    r = request(failing.port, "GET", path)
    assert r.status == 500 and b"Injected" not in r.body
    assert r.header("Injected") is None
    failing.wait_for_log(r"Function failed: the handler's answer is not valid: " + why)
    assert request(failing.port, "GET", "/").status == 200


def test_a_handler_past_exec_timeout_gets_the_client_its_504_and_is_told_to_stop(failing):
    started = time.monotonic()
    r = request(failing.port, "GET", "/late")
    assert r.status == 504
    assert time.monotonic() - started < 5
    # The handler read the flag, and its answer was dropped.
    failing.wait_for_log(r"late handler told to stop, time left 0", stream="stdout")
    assert request(failing.port, "GET", "/").status == 200


def test_print_goes_to_the_log_line_by_line(failing):
    assert request(failing.port, "GET", "/print").body == b"printed"
    # print() is the function's stdout, as a forked function's: the watchdog's stdout.
    failing.wait_for_log(r"first line from the handler$", stream="stdout")
    failing.wait_for_log(r"second line finished$", stream="stdout")
    failing.wait_for_log(r"to stderr$")


def test_json_logs_carry_the_handlers_lines_as_objects(start_watchdog, tmp_path):
    wd = start_launcher(start_watchdog, function_dir(tmp_path, "failing_handler.py"),
                        {"log_format": "json"})
    assert request(wd.port, "GET", "/print").status == 200
    wd.wait_for_log(r"first line from the handler", stream="stdout")
    for line in wd.lines() + wd.stdout_lines():
        if "from the handler" in line:
            assert json.loads(line)


def test_debians_python_runs_whatever_python3_is_first_on_path(start_watchdog, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\nexit 97\n")
    (fake / "python3").chmod(0o755)
    wd = start_launcher(start_watchdog, function_dir(tmp_path, "failing_handler.py"),
                        {"PATH": f"{fake}:/usr/bin:/bin"})
    assert request(wd.port, "GET", "/where").body == b"/usr 3.11"


def test_an_import_error_stops_start_up_with_exit_1_and_the_traceback(start_watchdog, tmp_path):
    directory = tmp_path / "broken"
    (directory / "function").mkdir(parents=True)
    (directory / "function" / "handler.py").write_text("import no_such_module_here\n")
    wd = start_launcher(start_watchdog, directory, wait_ready=False)
    assert wd.wait_exit(timeout=30) == 1
    log = "\n".join(wd.lines() + wd.stdout_lines())
    assert "Traceback (most recent call last)" in log
    assert "Function setup failed: ModuleNotFoundError: No module named " \
           "'no_such_module_here'" in log
    assert "Listening on port" not in log


def test_module_setup_runs_once_and_fprocess_names_another_handler(start_watchdog, tmp_path):
    directory = tmp_path / "named"
    directory.mkdir()
    (directory / "counter.py").write_text(
        "import itertools\nprint('setting up')\ncalls = itertools.count(1)\n"
        "def answer(event, context):\n    return str(next(calls))\n")
    wd = start_launcher(start_watchdog, directory, {"fprocess": "counter:answer",
                                                   "inproc_threads": "1"})
    assert [request(wd.port, "GET", "/").body for _ in range(3)] == [b"1", b"2", b"3"]
    assert sum("setting up" in line for line in wd.lines() + wd.stdout_lines()) == 1


@pytest.mark.parametrize("env,status,message", [
    ({"mode": "static"}, 2, "fwatchdog-python serves mode=inproc only"),
    ({"fprocess": "python3 index.py"}, 1, "expected the handler as module:function"),
    ({"inproc_threads": "0"}, 1, "inproc_threads"),
])
def test_a_bad_configuration_stops_start_up(start_watchdog, tmp_path, env, status, message):
    wd = start_launcher(start_watchdog, function_dir(tmp_path), env, wait_ready=False)
    assert wd.wait_exit(timeout=30) == status
    assert message in "\n".join(wd.lines())


def test_sigterm_drains_a_call_in_flight(start_watchdog, tmp_path):
    wd = start_launcher(start_watchdog, function_dir(tmp_path, "failing_handler.py"))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(request, wd.port, "GET", "/slow?s=1", None, b"", 30)
        harness.wait_until(lambda: wd.server_connections() >= 1, what="the call in flight")
        wd.signal(signal.SIGTERM)
        r = slow.result(timeout=30)
    assert (r.status, r.body) == (200, b"slow done")
    assert wd.wait_exit(timeout=30) == 0


def test_the_watchdogs_limits_and_metrics_hold_before_python_runs(start_watchdog, tmp_path):
    wd = start_launcher(start_watchdog, function_dir(tmp_path, "failing_handler.py"),
                        {"max_body_size": "1000"})
    # A body over max_body_size is refused before the handler is called.
    r = request(wd.port, "POST", "/print", body=b"x" * 2000)
    assert r.status == 413
    assert request(wd.port, "POST", "/", body=b"x" * 1000).body == b"ok"
    assert not any("from the handler" in line for line in wd.stdout_lines())
    metrics = request(wd.metrics_port, "GET", "/metrics").body.decode()
    assert "function_threads 16\n" in metrics
    assert 'http_requests_total{code="200",method="post"} 1' in metrics
