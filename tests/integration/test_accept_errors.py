"""The listener when descriptors run out.

libuv's own accept meets EMFILE by closing a spare descriptor, accepting every waiting client and
closing each at once, so those clients got a closed or reset connection; and without the spare it
calls accept() again at once, in a busy loop. The watchdog accepts by itself instead: it pauses
accepting without losing the clients waiting in the backlog, resumes once descriptors are
available again, and answers every client it has accepted.
"""

import contextlib
import os
import resource
import threading
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
    nothing can be opened, not even after the acceptor gives its spare descriptors back, and
    accept() keeps failing; then connects a client that sends `body`. The limit comes first, so that the client
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


# The descriptor limit of the watchdog in the test below: a dozen for itself, the spares its
# acceptor keeps, and room for a handful of requests (a socket and three pipes each).
LOW_NOFILE = 48
CONCURRENT_CLIENTS = 80


def limit_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_NOFILE, LOW_NOFILE))


def test_every_client_is_answered_when_descriptors_run_out(start_watchdog):
    """More clients at once than the descriptors allow: each one gets an HTTP answer, its echo
    or a 503 with Retry-After (accepted but no descriptors left for the function's pipes),
    none a closed or reset connection; and the watchdog serves normally afterwards."""
    wd = start_watchdog({"fprocess": '["sh", "-c", "sleep 0.2; exec cat"]',
                         "read_timeout": "20s", "write_timeout": "20s"},
                        popen_options={"preexec_fn": limit_nofile})
    outcomes = [None] * CONCURRENT_CLIENTS

    def client(index):
        body = f"client {index}".encode()
        try:
            response = harness.request(wd.port, "POST", "/", body=body, timeout=30)
        except (OSError, ConnectionError) as error:
            outcomes[index] = repr(error)
            return
        if response.status == 200 and response.body == body:
            outcomes[index] = 200
        elif response.status == 503 and response.header("Retry-After") == "1":
            outcomes[index] = 503
        else:
            outcomes[index] = f"{response.status} {response.headers} {response.body[:80]!r}"

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENT_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    unanswered = [o for o in outcomes if o not in (200, 503)]
    assert not unanswered, unanswered
    harness.report("fd_limit_48_of_80_clients_served", outcomes.count(200))
    assert outcomes.count(200) > 0
    assert wd.proc.poll() is None
    response = harness.request(wd.port, "POST", "/", body=b"after the load")
    assert response.status == 200 and response.body == b"after the load"
