"""Streaming mode's splice paths (lib/http/body_splice.*, lib/modes/fork/streaming_fork_exchange_splice.cpp):
a Content-Length body over 256 KiB goes from the socket into the function's stdin, and stdout
into the socket, without entering user space. /proc/<pid>/io proves it: bytes moved by
splice(2) are not counted as written (socket to pipe) or are counted once instead of twice
(pipe to socket). `OFWATCHDOG_NO_SPLICE=1` turns the paths off, so each measuring test also
runs without them and must see the difference. The edge cases check that behaviour is the
same as on the ordinary path."""

import hashlib
import socket
import threading
import time

import pytest

from harness import RawConnection, fixture, pid_alive, wait_until

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
MODES = [pytest.param({}, id="splice"), pytest.param({"OFWATCHDOG_NO_SPLICE": "1"}, id="no-splice")]


def pattern(size):
    block = bytes((i * 7 + i // 253) & 0xFF for i in range(1 << 16))
    return (block * (size // len(block) + 1))[:size]


def post_streaming(port, body, timeout=30, extra=b""):
    """Sends the POST (and `extra` right behind it) from a thread while reading the answer."""
    c = RawConnection(port, timeout=timeout)
    errors = []

    def send():
        try:
            c.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
                           + body + extra)
        except OSError as e:  # the server may close once it has answered
            errors.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    return c, sender, errors


def post_and_read(port, body):
    """One POST sent while its answer is read; the answer, once the sender has finished."""
    c, sender, errors = post_streaming(port, body)
    try:
        r = c.read_response()
    finally:
        sender.join(30)
        c.close()
    assert not errors
    return r


@pytest.mark.parametrize("env", MODES)
def test_request_body_is_spliced_into_stdin(start_watchdog, env):
    # `wc -c` reads the whole body and answers with a few bytes: what the watchdog writes is
    # the body on the ordinary path, next to nothing when the body is spliced.
    wd = start_watchdog({"fprocess": "wc -c", **env})
    size = 16 << 20
    before = wd.proc_io()
    r = post_and_read(wd.port, pattern(size))
    assert r.status == 200 and r.body.strip() == str(size).encode()
    written = wd.proc_io()["wchar"] - before["wchar"]
    if env:
        assert written >= size, f"the ordinary path writes the body: wchar {written}"
    else:
        assert written < size // 10, f"the body went through user space: wchar {written}"


# The output splice is opt-in (OFWATCHDOG_SPLICE_OUTPUT=1, see docs/streaming.md): these run
# it on, off by default, and off with every splice disabled.
OUTPUT_MODES = [pytest.param({"OFWATCHDOG_SPLICE_OUTPUT": "1"}, id="splice"),
                pytest.param({}, id="default"),
                pytest.param({"OFWATCHDOG_SPLICE_OUTPUT": "1", "OFWATCHDOG_NO_SPLICE": "1"},
                             id="no-splice")]


@pytest.mark.parametrize("env", OUTPUT_MODES)
def test_output_is_spliced_to_the_socket(start_watchdog, env):
    size = 16 << 20
    wd = start_watchdog({"fprocess": f"head -c {size} /dev/zero", **env})
    before = wd.proc_io()
    c = RawConnection(wd.port, timeout=30)
    try:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
    finally:
        c.close()
    assert r.status == 200 and r.body == bytes(size)
    written = wd.proc_io()["wchar"] - before["wchar"]
    # Read from the pipe and written to the socket: twice; spliced: counted once.
    if env != {"OFWATCHDOG_SPLICE_OUTPUT": "1"}:
        assert written >= 2 * size
    else:
        assert written < size * 3 // 2, f"the output went through user space: wchar {written}"
    wd.wait_for_log(TS + r"GET / - 200 - ContentLength: 16\.78MB ")


def test_spliced_echo_is_byte_exact_and_counted(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    body = pattern((8 << 20) + 12345)
    r = post_and_read(wd.port, body)
    assert r.status == 200
    assert hashlib.sha256(r.body).hexdigest() == hashlib.sha256(body).hexdigest()
    wd.wait_for_log(TS + r"POST / - 200 - ContentLength: 8\.401MB ")


def test_pipelined_request_after_a_spliced_body(start_watchdog):
    # Exactly the declared length is spliced: the next request, sent in the same write, stays
    # in the socket for the parser.
    wd = start_watchdog({"fprocess": "cat"})
    body = pattern(1 << 20)
    second = b"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    c, sender, errors = post_streaming(wd.port, body, extra=second)
    try:
        first = c.read_response()
        assert first.status == 200 and first.body == body
        r = c.read_response()
        assert r.status == 200 and r.body == b"hello"
    finally:
        sender.join(30)
        c.close()
    assert not errors
    wd.wait_for_log(TS + r"POST /two - 200 - ContentLength: 5B ")


def test_client_closing_mid_body_kills_the_function(start_watchdog, tmp_path):
    # The function writes its pid, then copies stdin; the client sends half of a large body and
    # goes away, which the splice sees as the end of the socket.
    wd = start_watchdog({"fprocess": fixture("pid_then_cat.sh"), "PID_DIR": str(tmp_path),
                         "exec_timeout": "60s"})
    c = RawConnection(wd.port)
    c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (64 << 20))
    c.send(pattern(1 << 20))
    path = tmp_path / "pid"
    wait_until(lambda: path.exists() and path.read_text().strip(), 10, what="the function's pid")
    pid = int(path.read_text())
    c.close()
    wd.wait_for_log(TS + r"Killing the function's process group: the request ended early "
                    r"\(client closed")
    wait_until(lambda: not pid_alive(pid), 10, what="the function to be gone")
    # The watchdog still serves.
    c2, sender, errors = post_streaming(wd.port, b"ok")
    try:
        assert c2.read_response().status == 200
    finally:
        sender.join(10)
        c2.close()


def test_function_exiting_without_reading_a_spliced_body(start_watchdog):
    # unread-stdin on the splice path: the body is read and dropped once stdin is gone, the
    # output is the answer, and the connection closes after it (too much left to discard).
    wd = start_watchdog({"fprocess": fixture("exit_with.sh") + " 0 ignored"})
    c, sender, errors = post_streaming(wd.port, pattern(32 << 20))
    try:
        r = c.read_response()
        assert r.status == 200 and r.body == b"ignored"
        assert c.is_closed(timeout=20)
    finally:
        sender.join(30)
        c.close()
    wd.wait_for_log(TS + r"POST / - 200 - ContentLength: 7B ")


def test_slow_client_hits_the_write_timeout(start_watchdog):
    # The client stops reading a large spliced output: the write timeout ends the exchange and
    # the function is killed, as on the ordinary path.
    wd = start_watchdog({"fprocess": fixture("zeros_pause_zeros.sh") + " 1073741824",
                         "OFWATCHDOG_SPLICE_OUTPUT": "1",
                         "write_timeout": "1s",
                         "exec_timeout": "60s"})
    c = RawConnection(wd.port)
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        # The first 128 KiB take the ordinary path; once they are read the rest is spliced,
        # and the client stops reading.
        c.wait_for_bytes(b"\r\n\r\n")
        deadline = time.monotonic() + 10
        while len(c.buf) < 131072 + 200:
            assert c._fill(deadline)
        wd.wait_for_log(TS + r"Killing the function's process group: the request ended early "
                        r"\(write timeout\)", timeout=15)
    finally:
        c.close()
    wd.wait_for_log(TS + r"GET / - 500 - ")


def test_stalled_spliced_body_hits_the_read_timeout(start_watchdog):
    # The client sends part of a large body and stalls: the read timeout cancels the request,
    # the function is killed and the connection closes (the splice lets go of the socket).
    wd = start_watchdog({"fprocess": "cat", "read_timeout": "1s", "exec_timeout": "60s"})
    c = RawConnection(wd.port, timeout=15)
    try:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (8 << 20))
        c.send(pattern(1 << 20))
        wd.wait_for_log(TS + r"Killing the function's process group: the request ended early "
                        r"\(read timeout\)", timeout=15)
        assert c.is_closed(timeout=15)
    finally:
        c.close()
