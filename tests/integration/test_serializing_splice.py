"""Serializing mode's kernel-moved bytes (lib/modes/fork/body_intake.*,
lib/modes/fork/collecting_fork_exchange_splice.cpp, lib/process/pipe_file_splice.*): a
Content-Length body over 256 KiB goes from the socket into its in-memory file and from there
into stdin, and stdout into the output's in-memory file, all with splice(2); the answer leaves
with sendfile. /proc/<pid>/io proves it: bytes moved by splice are counted neither
as read nor as written, sendfile's once each way. `OFWATCHDOG_NO_SPLICE=1` turns the splices
off, so each test also runs without them; the edge cases check that the behaviour is the
ordinary path's: the function never starts for a body that does not fully arrive, one that reads
less or writes more than its body gets the same answer."""

import hashlib
import os
import threading
import time

import pytest

import harness
from harness import RawConnection, wait_until

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
MODES = [pytest.param({}, id="splice"), pytest.param({"OFWATCHDOG_NO_SPLICE": "1"}, id="no-splice")]


def serializing(extra):
    return {"mode": "serializing", **extra}


def pattern(size, seed=0):
    block = bytes((i * 7 + i // 253 + seed) & 0xFF for i in range(1 << 16))
    return (block * (size // len(block) + 1))[:size]


def post(port, body, timeout=60):
    """POSTs `body` from a thread while the answer is read into one buffer."""
    c = RawConnection(port, timeout=timeout)
    errors = []

    def send():
        try:
            c.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
                           + body)
        except OSError as e:  # the server may answer and close before the body is all sent
            errors.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        r = c.read_response(timeout=timeout)
    finally:
        sender.join(timeout)
        c.close()
    return r


@pytest.mark.parametrize("env", MODES)
def test_a_big_body_moves_through_cat_without_user_space_copies(start_watchdog, env):
    wd = start_watchdog(serializing({"fprocess": "cat", **env}))
    post(wd.port, b"warm")
    size = 24 << 20
    body = pattern(size, 1)
    before = wd.proc_io()
    r = post(wd.port, body)
    after = wd.proc_io()
    assert r.status == 200
    assert r.header("Content-Length") == str(size)
    assert hashlib.sha256(r.body).digest() == hashlib.sha256(body).digest()
    # A reaped child's counts are added to its parent's: cat read and wrote the body once.
    moved = (after["rchar"] - before["rchar"]) + (after["wchar"] - before["wchar"]) - 2 * size
    calls = (after["syscr"] - before["syscr"]) + (after["syscw"] - before["syscw"])
    harness.report(f"serializing 24 MiB {'no-splice' if env else 'splice'}: bytes read+written",
                   moved)
    harness.report(f"serializing 24 MiB {'no-splice' if env else 'splice'}: read+write calls "
                   "(cat's included)", calls)
    if env:
        # Read from the socket, written into the file, read back, written into stdin, read from
        # stdout, written into the file: three times each way, and sendfile once more.
        assert moved >= 6 * size, f"the ordinary path copies: {moved} bytes"
    else:
        # Only sendfile counts (once read, once written).
        assert moved < 2.5 * size, f"the bytes went through user space: {moved} bytes"
    wd.wait_for_log(TS + r"POST / - 200 - ContentLength: 25\.17MB ")


@pytest.mark.parametrize("env", MODES)
def test_a_function_that_writes_more_than_it_reads(start_watchdog, tmp_path, env):
    extra = pattern(3 << 20, 2)
    path = tmp_path / "extra"
    path.write_bytes(extra)
    body = pattern(4 << 20, 3)
    # After its body, before it, and instead of it: the output overtakes the reading each way.
    for script, expected in ((f"cat; cat {path}", body + extra),
                             (f"cat {path}; cat", extra + body),
                             (f"cat {path}", extra)):
        wd = start_watchdog(serializing({"fprocess": f'["/bin/sh", "-c", "{script}"]', **env}))
        r = post(wd.port, body)
        assert r.status == 200, script
        assert r.header("Content-Length") == str(len(expected)), script
        assert hashlib.sha256(r.body).digest() == hashlib.sha256(expected).digest(), script
        wd.close()


@pytest.mark.parametrize("env", MODES)
def test_a_function_that_exits_before_reading_its_whole_body(start_watchdog, env):
    wd = start_watchdog(serializing({"fprocess": "head -c 1000", **env}))
    body = pattern(8 << 20, 4)
    r = post(wd.port, body)
    assert r.status == 200
    assert r.body == body[:1000]
    # The connection carried the whole body: the next request on the port works.
    assert post(wd.port, b"again").body == b"again"


@pytest.mark.parametrize("env", MODES)
def test_a_client_that_leaves_mid_upload_never_starts_the_function(start_watchdog, tmp_path, env):
    marker = tmp_path / "ran"
    wd = start_watchdog(serializing({"fprocess": f'["/bin/sh", "-c", "touch {marker}; cat"]',
                                     **env}))
    assert post(wd.port, b"warm").body == b"warm"
    os.remove(marker)
    wait_until(lambda: wd.server_connections() == 0, what="connections closed")
    baseline = wd.open_fds()
    c = RawConnection(wd.port, timeout=30)
    c.send(b"POST /left HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (16 << 20)
           + pattern(2 << 20, 5))
    time.sleep(0.3)
    c.close()
    wd.wait_for_log(TS + r"POST /left - 500 - ")
    wait_until(lambda: wd.server_connections() == 0, what="connections closed")
    wait_until(lambda: wd.open_fds() == baseline, what=f"fd count back to {baseline}")
    assert not marker.exists()
    assert len([l for l in wd.lines() if "Started logging: stderr from function." in l]) == 1


@pytest.mark.parametrize("env", MODES)
def test_the_exec_timeout_covers_a_body_still_arriving(start_watchdog, tmp_path, env):
    marker = tmp_path / "ran"
    wd = start_watchdog(serializing({"fprocess": f'["/bin/sh", "-c", "touch {marker}; cat"]',
                                     "exec_timeout": "500ms", **env}))
    c = RawConnection(wd.port, timeout=30)
    try:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (16 << 20)
               + pattern(1 << 20, 6))
        r = c.read_response(timeout=10)
    finally:
        c.close()
    assert r.status == 500
    assert r.body == b"context deadline exceeded"
    assert not marker.exists()


def test_the_in_memory_files_hold_about_one_body_while_the_answer_is_sent(start_watchdog):
    # The body's file gives its pages back as cat reads it (on the thread pool), so once the
    # function is over only the output is held, not a body and an output. Read from the
    # watchdog's descriptors while the answer is slowly read.
    wd = start_watchdog(serializing({"fprocess": "cat"}))
    size = 32 << 20
    body = pattern(size, 7)
    c = RawConnection(wd.port, timeout=60)
    held = {}  # inode: bytes (the connection's sendfile holds a duplicate of the output's)
    try:
        c.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + body)
        c.wait_for_bytes(b"\r\n\r\n", timeout=60)
        time.sleep(0.2)  # the pages go back on the thread pool, a moment after they are read
        for fd in os.listdir(f"/proc/{wd.proc.pid}/fd"):
            try:
                if "ofwatchdog-queue" in os.readlink(f"/proc/{wd.proc.pid}/fd/{fd}"):
                    st = os.stat(f"/proc/{wd.proc.pid}/fd/{fd}")
                    held[st.st_ino] = st.st_blocks * 512
            except FileNotFoundError:
                pass
        got = len(c.buf)
        while got < size:
            chunk = c.sock.recv(1 << 20)
            assert chunk
            got += len(chunk)
    finally:
        c.close()
    total = sum(held.values())
    harness.report("serializing 32 MiB: in-memory file bytes while answering", total)
    assert held, "no in-memory file while the answer was sent"
    assert total < size * 1.2, f"{total} bytes held for a {size}-byte body and output"
