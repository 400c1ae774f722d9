"""The metrics port: /metrics, the 404 page, and what the function route records.

Each test starts the real binary (`port=0`, `metrics_port=0`; the harness reads both ports from
the log) with `fprocess=cat` in streaming mode, drives the function port over raw sockets and
scrapes the metrics port.
"""

import os
import re
import subprocess

import pytest

import harness

PROMTOOL = "/usr/bin/promtool"

SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$")


def scrape(wd, method="GET", path="/metrics", headers=None):
    return harness.request(wd.metrics_port, method, path, headers=headers)


def samples(text):
    """Maps each sample's name-and-labels text to its value."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"unparsable exposition line {line!r}"
        out[m.group(1)] = float(m.group(2))
    return out


def metric_values(wd):
    resp = scrape(wd)
    assert resp.status == 200, resp
    return samples(resp.body.decode("utf-8"))


def wait_for_sample(wd, series, value, timeout=harness.DEFAULT_WAIT):
    """The watchdog records a request when its exchange ends, which may be just after the client
    has read the last byte; poll (bounded) until the sample shows the value."""
    last = {}

    def check():
        last.clear()
        last.update(metric_values(wd))
        return last.get(series) == value

    try:
        harness.wait_until(check, timeout=timeout, what=f"{series} == {value}")
    except AssertionError:
        raise AssertionError(f"{series} never became {value}; last scrape: {last}")


def test_scrape_at_start(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    resp = scrape(wd)
    assert resp.status == 200
    assert resp.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    assert int(resp.header("Content-Length")) == len(resp.body)
    text = resp.body.decode("utf-8")
    assert "# HELP http_requests_in_flight total HTTP requests in-flight\n" in text
    assert "# TYPE http_requests_in_flight gauge\n" in text
    assert "\nhttp_requests_in_flight 0\n" in "\n" + text
    # No function request yet, so the labelled families have no series and are not exported.
    assert "http_requests_total" not in text
    assert "http_request_duration_seconds" not in text
    # Our own choice: no Go runtime series and no promhttp handler series.
    names = [line.split("{")[0].split(" ")[0] for line in text.splitlines()
             if line and not line.startswith("#")]
    assert not [n for n in names if n.startswith(("go_", "promhttp_"))]


def test_process_series(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    values = metric_values(wd)
    for name in ("process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                 "process_resident_memory_bytes", "process_virtual_memory_bytes",
                 "process_start_time_seconds"):
        assert name in values, name
    assert values["process_open_fds"] > 0
    assert values["process_max_fds"] >= values["process_open_fds"]
    assert values["process_resident_memory_bytes"] > 0
    with open(f"/proc/{wd.proc.pid}/stat") as f:
        ticks_after_boot = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    expected_start = boot + ticks_after_boot / os.sysconf("SC_CLK_TCK")
    assert abs(values["process_start_time_seconds"] - expected_start) < 2


@pytest.mark.skipif(not os.access(PROMTOOL, os.X_OK), reason="promtool is not installed")
def test_promtool_accepts_the_scrape(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    resp = harness.request(wd.port, "POST", "/", body=b"hello")
    assert resp.status == 200
    wait_for_sample(wd, 'http_requests_total{code="200",method="post"}', 1.0)
    body = scrape(wd).body
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                           timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


def test_function_request_is_counted(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    resp = harness.request(wd.port, "POST", "/", body=b"hello")
    assert resp.status == 200
    assert resp.body == b"hello"
    wait_for_sample(wd, 'http_requests_total{code="200",method="post"}', 1.0)
    values = metric_values(wd)
    assert values['http_request_duration_seconds_count{code="200",method="post"}'] == 1.0
    assert values['http_request_duration_seconds_bucket{code="200",method="post",le="+Inf"}'] == 1.0
    assert values["http_requests_in_flight"] == 0.0
    # Exactly one series: the scrape itself and nothing else was counted.
    assert [k for k in values if k.startswith("http_requests_total")] == [
        'http_requests_total{code="200",method="post"}']

    harness.request(wd.port, "PROPFIND", "/x")
    wait_for_sample(wd, 'http_requests_total{code="200",method="unknown"}', 1.0)
    harness.request(wd.port, "GET", "/y?z=1")
    wait_for_sample(wd, 'http_requests_total{code="200",method="get"}', 1.0)


def test_health_ready_and_scrapes_are_not_counted(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    assert harness.request(wd.port, "GET", "/_/health").status == 200
    assert harness.request(wd.port, "GET", "/_/ready").status == 200
    assert harness.request(wd.port, "POST", "/_/health").status == 405
    for _ in range(3):
        scrape(wd)
    text = scrape(wd).body.decode("utf-8")
    assert "http_requests_total" not in text
    assert "http_request_duration_seconds" not in text
    # A function request afterwards is the only one counted.
    harness.request(wd.port, "GET", "/")
    wait_for_sample(wd, 'http_requests_total{code="200",method="get"}', 1.0)
    assert [k for k in metric_values(wd) if k.startswith("http_requests_total")] == [
        'http_requests_total{code="200",method="get"}']


def test_limiter_rejection_is_counted_as_429(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "max_inflight": "1"})
    # Hold the only slot: a request whose body has not fully arrived keeps `cat` running.
    held = harness.RawConnection(wd.port)
    try:
        held.send(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nab")
        wait_for_sample(wd, "http_requests_in_flight", 1.0)

        rejected = harness.request(wd.port, "GET", "/")
        assert rejected.status == 429
        wait_for_sample(wd, 'http_requests_total{code="429",method="get"}', 1.0)
        assert metric_values(wd)["http_requests_in_flight"] == 1.0

        held.send(b"cd")
        resp = held.read_response()
        assert resp.status == 200
        assert resp.body == b"abcd"
    finally:
        held.close()
    wait_for_sample(wd, 'http_requests_total{code="200",method="post"}', 1.0)
    values = metric_values(wd)
    assert values['http_requests_total{code="429",method="get"}'] == 1.0
    assert values["http_requests_in_flight"] == 0.0


@pytest.mark.parametrize("path", ["/", "/metrics/", "/metricsx", "/_/health", "/x?metrics"])
def test_other_paths_are_404(start_watchdog, path):
    wd = start_watchdog({"fprocess": "cat"})
    resp = scrape(wd, path=path)
    assert resp.status == 404
    assert resp.header("Content-Type") == "text/plain; charset=utf-8"
    assert resp.header("X-Content-Type-Options") == "nosniff"
    assert resp.body == b"404 page not found\n"
    assert resp.header("Content-Length") == "19"


def test_any_method_and_no_gzip(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    for method in ("POST", "PUT", "DELETE"):
        resp = scrape(wd, method=method)
        assert resp.status == 200, method
        assert b"http_requests_in_flight 0\n" in resp.body
    head = scrape(wd, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    # We have no compression library; the text is sent as is even to a gzip-capable scraper.
    resp = scrape(wd, headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.header("Content-Encoding") is None
    assert b"http_requests_in_flight 0\n" in resp.body


def test_keep_alive_scrapes(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    conn = harness.RawConnection(wd.metrics_port)
    try:
        for _ in range(3):
            conn.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            resp = conn.read_response()
            assert resp.status == 200
            assert b"http_requests_in_flight 0\n" in resp.body
    finally:
        conn.close()
