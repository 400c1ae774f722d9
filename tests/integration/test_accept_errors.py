"""The listener when accept() fails for want of descriptors.

libuv sheds pending clients itself on EMFILE while it holds a spare descriptor, but when that
spare cannot be used it reports the error and calls accept() again at once, for as long as the
error lasts: the watchdog must pause accepting instead, without losing the clients waiting in
the backlog, and resume once descriptors are available again.
"""

import os
import resource
import time

import harness


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post(body):
    return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


def test_no_busy_loop_and_no_lost_client_while_descriptors_are_exhausted(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    pid = wd.proc.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    # Below every descriptor the watchdog holds: neither libuv's spare nor anything else can be
    # opened, so accept() fails whatever libuv tries. The limit comes first, so that the client
    # below cannot be accepted before it.
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, hard))
    client = None
    try:
        try:
            client = harness.RawConnection(wd.port)
            client.send(post(b"waited"))
            time.sleep(0.2)
            before = cpu_seconds(pid)
            time.sleep(1.0)
            spent = cpu_seconds(pid) - before
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        # A busy loop burns a whole second here; the pause costs a few timer wake-ups.
        assert spent < 0.1
        harness.report("cpu_seconds_per_second_at_accept_emfile", f"{spent:.2f}")
        # The client waited in the backlog and is served once descriptors are back (the
        # retry interval is at most 1 s).
        response = client.read_response(timeout=5)
        assert response.status == 200
        assert response.body == b"waited"
    finally:
        if client is not None:
            client.close()
    assert harness.request(wd.port, "GET", "/_/health").status == 200


def test_sigterm_while_accepting_is_paused_exits_cleanly(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "healthcheck_interval": "0s", "write_timeout": "2s"})
    pid = wd.proc.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, hard))
    client = None
    try:
        try:
            client = harness.RawConnection(wd.port)
            client.send(post(b"never served"))
            time.sleep(0.3)
            # The shutdown, with accepting paused, must close the retry timer and the copy of
            # the listening socket, or the loop never ends.
            wd.signal()
            assert wd.wait_exit(timeout=10) == 0
        finally:
            if wd.proc.poll() is None:
                resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
    finally:
        if client is not None:
            client.close()
