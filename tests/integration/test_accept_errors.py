"""The listener when accept() fails for want of descriptors.

libuv sheds pending clients itself on EMFILE while it holds a spare descriptor, but when that
spare cannot be used it reports the error and calls accept() again at once, for as long as the
error lasts: the watchdog must pause accepting instead, without losing the clients waiting in
the backlog, and resume once descriptors are available again.
"""

import contextlib
import os
import resource
import time

import pytest

import harness


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def client_waiting_without_descriptors(wd, body):
    """Lowers the watchdog's soft RLIMIT_NOFILE below every descriptor it holds, so that
    neither libuv's spare nor anything else can be opened and accept() fails whatever libuv
    tries; then connects a client that sends `body`. The limit comes first, so that the client
    cannot be accepted before it. Yields the client and a function that restores the limit
    (it is restored on exit at the latest)."""
    limits = resource.prlimit(wd.proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(wd.proc.pid, resource.RLIMIT_NOFILE, (3, limits[1]))

    def restore():
        if wd.proc.poll() is None:
            resource.prlimit(wd.proc.pid, resource.RLIMIT_NOFILE, limits)

    client = None
    try:
        client = harness.RawConnection(wd.port)
        client.send(f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n"
                    .encode() + body)
        time.sleep(0.2)
        yield client, restore
    finally:
        restore()
        if client is not None:
            client.close()


def test_no_busy_loop_and_no_lost_client_while_descriptors_are_exhausted(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    with client_waiting_without_descriptors(wd, b"waited") as (client, restore_limit):
        before = cpu_seconds(wd.proc.pid)
        time.sleep(1.0)
        spent = cpu_seconds(wd.proc.pid) - before
        # A busy loop burns most of that second; the pause costs a few timer wake-ups.
        assert spent < 0.1
        harness.report("cpu_seconds_per_second_at_accept_emfile", f"{spent:.2f}")
        restore_limit()
        # The client waited in the backlog and is served once descriptors are back (the retry
        # interval is at most 1 s).
        response = client.read_response(timeout=5)
        assert response.status == 200
        assert response.body == b"waited"
    assert harness.request(wd.port, "GET", "/_/health").status == 200


@pytest.mark.skipif(harness.SANITIZED, reason="the leak check at exit needs descriptors the "
                    "limit denies, and aborts")
def test_sigterm_while_accepting_is_paused_exits_cleanly(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "healthcheck_interval": "0s", "write_timeout": "2s"})
    with client_waiting_without_descriptors(wd, b"never served"):
        # The shutdown, with accepting paused, must close the retry timer and the copy of the
        # listening socket, or the loop never ends.
        wd.signal()
        assert wd.wait_exit(timeout=10) == 0
