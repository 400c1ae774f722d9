"""A watchdog killed with SIGKILL takes its functions with it.

Each function runs in a session of its own, so nothing reaches it when the watchdog dies
without a chance to stop it: the kernel's parent-death signal, set in the child before its
exec, is what ends it. These tests kill the watchdog while an http-mode function server and a
slow streaming function run, and wait (bounded) for those processes to go.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_http_mode import start_http  # noqa: E402

GONE_WITHIN = 5.0


def process_gone(pid):
    """Whether `pid` has ended: no longer in /proc, or a zombie waiting for whoever adopted it
    (the init of a container may not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rfind(")") + 2] in "ZX"


def kill_watchdog_and_check_children_end(wd, children):
    """SIGKILLs the watchdog and waits for each of `children` to end; kills what is left, so a
    failing test leaves nothing running."""
    wd.proc.kill()
    wd.wait_exit()
    try:
        deadline = time.monotonic() + GONE_WITHIN
        while time.monotonic() < deadline and not all(process_gone(p) for p in children):
            time.sleep(0.02)
        left = [p for p in children if not process_gone(p)]
        assert not left, f"still running {GONE_WITHIN}s after the watchdog was killed: {left}"
    finally:
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def wait_for_children(wd, count):
    harness.wait_until(lambda: len(harness.child_pids(wd.proc.pid)) >= count, 10,
                       what=f"{count} function processes running")
    return harness.child_pids(wd.proc.pid)


def test_http_mode_function_server_dies_with_the_watchdog(start_watchdog):
    wd = start_http(start_watchdog)
    servers = wait_for_children(wd, 1)
    kill_watchdog_and_check_children_end(wd, servers)


def test_running_streaming_functions_die_with_the_watchdog(start_watchdog):
    wd = start_watchdog({"mode": "streaming", "fprocess": "sleep 60", "exec_timeout": "60s"})
    clients = []
    try:
        for _ in range(3):
            client = harness.RawConnection(wd.port)
            clients.append(client)
            client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        functions = wait_for_children(wd, 3)
        kill_watchdog_and_check_children_end(wd, functions)
    finally:
        for client in clients:
            client.close()
