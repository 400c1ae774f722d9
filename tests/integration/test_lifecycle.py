"""Health, readiness, the lock file, max_inflight and the graceful shutdown (docs/lifecycle.md)."""

import os
import signal
import socket

import pytest

import harness
from harness import RawConnection, request, wait_until


def blocking_env(tmp_path, **extra):
    marker = tmp_path / "release"
    env = {"fprocess": f"sh {harness.fixture('block_until_file.sh')} {marker}"}
    env.update(extra)
    return env, marker


def start_request(port, path="/"):
    """Sends a request and returns the connection; the response is read later."""
    c = RawConnection(port, timeout=20)
    c.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return c


def test_health_and_ready_when_serving(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    r = request(wd.port, "GET", "/_/health")
    assert r.status == 200 and r.body == b"OK"
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("Date")
    assert request(wd.port, "HEAD", "/_/health").status == 405
    assert request(wd.port, "POST", "/_/health", body=b"x").status == 405
    r = request(wd.port, "GET", "/_/ready")
    assert r.status == 200 and r.body == b""
    assert request(wd.port, "HEAD", "/_/ready").status == 405
    # Only exact paths are probes; the rest goes to the function.
    r = request(wd.port, "POST", "/_/health/", body=b"to the function")
    assert r.status == 200 and r.body == b"to the function"


def test_lock_file_lifecycle(start_watchdog, tmp_path):
    wd = start_watchdog({"fprocess": "cat"})
    assert os.path.exists(wd.lock_path)
    # The health check looks at the file on every call.
    os.unlink(wd.lock_path)
    assert request(wd.port, "GET", "/_/health").status == 503
    open(wd.lock_path, "w").close()
    assert request(wd.port, "GET", "/_/health").status == 200


def test_a_failed_start_leaves_a_stale_lock_and_bind_failure_exits_1(tmp_path):
    blocker = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    blocker.bind(("::", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    lock = tmp_path / ".lock"
    lock.write_text("")
    before = os.stat(lock)
    try:
        rc, out, err = harness.run_watchdog(
            env={"fprocess": "cat", "port": str(port), "metrics_port": "0"}, tmpdir=tmp_path)
    finally:
        blocker.close()
    assert rc == 1
    assert f"listen tcp :{port}" in err
    # A start that fails touches no lock file: it may belong to a watchdog that is serving.
    assert os.stat(lock).st_ino == before.st_ino
    assert sorted(os.listdir(tmp_path)) == [".lock"]
    assert "Writing lock-file" not in err


def test_a_stale_lock_is_replaced_once_listening(start_watchdog, tmp_path):
    lock = tmp_path / ".lock"
    lock.write_text("")
    stale = os.stat(lock).st_ino
    wd = start_watchdog({"fprocess": "cat", "healthcheck_interval": "0"}, tmpdir=tmp_path)
    # The file is replaced just after the "Writing lock-file" line the start waits for.
    wait_until(lambda: os.stat(lock).st_ino != stale, what="stale lock replaced")
    assert os.stat(lock).st_nlink == 2  # .lock and this watchdog's holder link
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=10) == 0
    assert os.listdir(tmp_path) == []


def test_a_failed_start_beside_a_running_watchdog_keeps_it_healthy(start_watchdog, tmp_path):
    # `fwatchdog` run by hand in a function's container: its metrics port is taken.
    running = start_watchdog({"fprocess": "cat"}, tmpdir=tmp_path)
    before = os.stat(running.lock_path).st_ino
    rc, _, err = harness.run_watchdog(
        env={"fprocess": "cat", "port": "0", "metrics_port": str(running.metrics_port)},
        tmpdir=tmp_path)
    assert rc == 1 and f"listen tcp :{running.metrics_port}" in err
    assert os.stat(running.lock_path).st_ino == before
    assert request(running.port, "GET", "/_/health").status == 200
    rc, _, _ = harness.run_watchdog(["-run-healthcheck"], tmpdir=tmp_path)
    assert rc == 0


def test_watchdogs_sharing_tmpdir_never_turn_each_other_unhealthy(start_watchdog, tmp_path):
    for stop_first in (0, 1):
        folder = tmp_path / f"shared{stop_first}"
        folder.mkdir()
        env = {"fprocess": "cat", "healthcheck_interval": "0"}
        pair = [start_watchdog(env, tmpdir=folder), start_watchdog(env, tmpdir=folder)]
        # Each holds the file through a link of its own, made just after its start-up line.
        wait_until(lambda: sorted(os.listdir(folder)) ==
                   sorted([".lock"] + [f".lock.{wd.proc.pid}" for wd in pair]),
                   what="both watchdogs hold the lock file")
        first, other = pair[stop_first], pair[1 - stop_first]
        first.signal(signal.SIGTERM)
        assert first.wait_exit(timeout=10) == 0
        first.wait_for_log(r"Leaving lock-file " + str(folder / ".lock"))
        assert os.path.exists(folder / ".lock")
        assert request(other.port, "GET", "/_/health").status == 200
        other.signal(signal.SIGTERM)
        assert other.wait_exit(timeout=10) == 0
        other.wait_for_log(r"Removing lock-file : " + str(folder / ".lock"))
        assert os.listdir(folder) == []


def test_suppress_lock_health_follows_accepting(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "suppress_lock": "true"})
    wd.wait_for_log(r'Warning: "suppress_lock" is enabled')
    assert not os.path.exists(wd.lock_path)
    assert request(wd.port, "GET", "/_/health").status == 200
    wd.signal(signal.SIGTERM)
    wd.wait_for_log(r"SIGTERM: no new connections in")
    assert request(wd.port, "GET", "/_/health").status == 503


def test_startup_lines(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "write_timeout": "1m30s",
                         "healthcheck_interval": "bogus"})
    lines = wd.lines()
    text = "\n".join(lines)
    assert 'Watchdog mode: streaming\tfprocess: "cat"' in text
    assert "Timeouts: read: 30s write: 1m30s hard: 30s health: 1m30s" in text
    stamp = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
    wd.wait_for_log(stamp + r"Listening on port: \d+$")
    wd.wait_for_log(stamp + r"Writing lock-file to: " + wd.lock_path + "$")
    order = [i for i, l in enumerate(lines) if "Listening on port" in l or "Writing lock-file" in l]
    assert len(order) == 2 and order[0] < order[1]


def test_sigterm_drains_in_flight_request(start_watchdog, tmp_path):
    env, marker = blocking_env(tmp_path, healthcheck_interval="1s", write_timeout="10s")
    wd = start_watchdog(env)
    held = start_request(wd.port)
    held.wait_for_bytes(b"started")
    wd.signal(signal.SIGTERM)
    wd.wait_for_log(r"SIGTERM: no new connections in 1s")
    wd.wait_for_log(r"Removing lock-file : " + wd.lock_path)
    wait_until(lambda: not os.path.exists(wd.lock_path), what="lock file removed")
    assert request(wd.port, "GET", "/_/health").status == 503
    assert request(wd.port, "GET", "/_/ready").status == 503
    # During the interval the server keeps serving new requests.
    r = request(wd.port, "POST", "/quick", body=b"still served")
    assert r.status == 200 and r.body == b"quick\n"
    # A second SIGTERM changes nothing.
    wd.signal(signal.SIGTERM)
    wd.wait_for_log(r"No new connections allowed, draining: 1 requests", timeout=5)
    # The listener is closed now: new connections are refused.
    wait_until(lambda: _refused(wd.port), what="listener closed")
    marker.write_text("")
    resp = held.read_response(timeout=10)
    assert resp.status == 200
    assert resp.body == b"started\ndone\n"
    assert wd.wait_exit(timeout=10) == 0
    wd.wait_for_log(r"Exiting. Active connections: 0")
    assert sum("SIGTERM: no new connections" in l for l in wd.lines()) == 1


def _refused(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except (ConnectionRefusedError, ConnectionResetError):
        # A connection caught in the backlog while the listener closes is reset instead.
        return True
    s.close()
    return False


def test_sigint_drains_like_sigterm(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "healthcheck_interval": "0"})
    wd.signal(signal.SIGINT)
    wd.wait_for_log(r"SIGINT: no new connections in 0s")
    assert wd.wait_exit(timeout=10) == 0
    assert not os.path.exists(wd.lock_path)


@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM])
def test_a_second_sigint_ends_the_drain_at_once(start_watchdog, tmp_path, first):
    # A second SIGTERM changes nothing (orchestrators wait for the drain, see above); a second
    # SIGINT, Ctrl-C pressed again, cuts it short whatever began it.
    env, marker = blocking_env(tmp_path, healthcheck_interval="0", write_timeout="60s")
    wd = start_watchdog(env)
    held = start_request(wd.port)
    held.wait_for_bytes(b"started")
    wd.signal(first)
    wd.wait_for_log(r"No new connections allowed, draining: 1 requests")
    wd.signal(signal.SIGINT)
    assert wd.wait_exit(timeout=10) == 130
    wd.wait_for_log(r"SIGINT again: exiting now")
    assert not os.path.exists(wd.lock_path)
    # The request it gave up on is cut, never answered as complete.
    data = held.read_until_closed(timeout=10)
    assert not data.endswith(b"0\r\n\r\n")
    marker.write_text("")  # lets the function end, should it have outlived the watchdog


def test_drain_deadline_cuts_requests(start_watchdog, tmp_path):
    env, marker = blocking_env(tmp_path, healthcheck_interval="0s", write_timeout="1s")
    wd = start_watchdog(env)
    held = start_request(wd.port)
    held.wait_for_bytes(b"started")
    wd.signal(signal.SIGTERM)
    # The request's own write deadline (started before the drain's) or the drain's deadline
    # cuts it: either way the watchdog exits 0 without waiting for the function.
    assert wd.wait_exit(timeout=10) == 0
    # The client sees an incomplete response: no terminating chunk.
    rest = held.read_until_closed(timeout=5)
    assert not rest.endswith(b"0\r\n\r\n")


def test_max_inflight(start_watchdog, tmp_path):
    env, marker = blocking_env(tmp_path, max_inflight="1")
    wd = start_watchdog(env)
    held = start_request(wd.port)
    held.wait_for_bytes(b"started")
    r = request(wd.port, "GET", "/")
    assert r.status == 429
    assert r.body == b"Concurrent request limit exceeded. Max concurrent requests: 1\n"
    assert r.header("Content-Type") == "text/plain"
    assert r.header("X-OpenFaaS-Internal") == "faas-middleware"
    assert request(wd.port, "GET", "/_/ready").status == 429
    assert request(wd.port, "GET", "/_/health").status == 200
    marker.write_text("")
    assert held.read_response(timeout=10).status == 200
    wait_until(lambda: request(wd.port, "GET", "/_/ready").status == 200, what="slot released")
    assert request(wd.port, "POST", "/quick", body=b"x").status == 200


def test_ready_path_delegates_to_function(start_watchdog):
    wd = start_watchdog({"fprocess": "env", "ready_path": "/custom/ready?x=1"})
    r = request(wd.port, "GET", "/_/ready", headers={"X-Probe": "yes"})
    assert r.status == 200
    env = r.body.decode()
    assert "Http_Method=GET" in env
    assert "Http_Path=/custom/ready?x=1" in env
    assert "Http_X_Probe=yes" in env
    assert "Http_Query" not in env


def test_inproc_without_handler_refuses_to_start(tmp_path):
    rc, out, err = harness.run_watchdog(env={"mode": "inproc", "port": "0", "metrics_port": "0"},
                                        tmpdir=tmp_path)
    assert rc == 1
    assert "inproc" in err
    assert not (tmp_path / ".lock").exists()
