"""examples/custom_mode: a mode of an embedder's own (mode=reverse), found by name in the mode
registry and built on RequestJob, gets the watchdog's per-request services: the exec deadline,
the 413 for max_body_size, the access line, the drain, and start-up checks of its variables."""

import signal

import harness
from harness import request


def start_reverse(start_watchdog, **env):
    return start_watchdog(env, binary=harness.example_binary("custom-mode-example"))


def test_the_mode_answers_and_writes_the_access_line(start_watchdog):
    wd = start_reverse(start_watchdog)
    r = request(wd.port, "POST", "/r?x=1", body=b"stressed")
    assert r.status == 200 and r.body == b"desserts"
    wd.wait_for_log(r"POST /r\?x=1 - 200 - ContentLength: 8B \(\d+\.\d{4}s\)")
    assert request(wd.port, "GET", "/_/health").body == b"OK"


def test_exec_timeout_gives_a_504(start_watchdog):
    wd = start_reverse(start_watchdog, exec_timeout="300ms")
    r = request(wd.port, "POST", "/slow", headers={"X-Delay-Ms": "5000"}, body=b"abc")
    assert r.status == 504
    assert r.header("X-OpenFaaS-Internal") == "of-watchdog"
    wd.wait_for_log(r"POST /slow - 504 - ContentLength: 0B")
    # X-Timeout shortens it further, and a quick answer is not affected.
    r = request(wd.port, "POST", "/quick", headers={"X-Delay-Ms": "10"}, body=b"ab")
    assert r.status == 200 and r.body == b"ba"


def test_max_body_size_gives_a_413_before_the_mode_reads(start_watchdog):
    wd = start_reverse(start_watchdog, max_body_size="4")
    r = request(wd.port, "POST", "/big", body=b"too long")
    assert r.status == 413
    assert r.body == b"Request body too large: the limit is 4 bytes"
    wd.wait_for_log(r"POST /big - 413 - ContentLength: 44B")
    chunked = request(wd.port, "POST", "/big-chunked", headers={"Transfer-Encoding": "chunked"},
                      body=b"8\r\ntoo long\r\n0\r\n\r\n")
    assert chunked.status == 413
    assert request(wd.port, "POST", "/ok", body=b"ok").body == b"ko"


def test_its_own_variable_is_checked_at_start_up(tmp_path):
    wd = harness.WatchdogProcess({"reverse_max_delay_ms": "soon"}, tmp_path, wait_ready=False,
                                 binary=harness.example_binary("custom-mode-example"))
    try:
        assert wd.wait_exit() == 1
        assert any("reverse_max_delay_ms must be a whole number" in l for l in wd.lines())
    finally:
        wd.close()


def test_sigterm_drains_a_request_in_flight(start_watchdog):
    wd = start_reverse(start_watchdog, healthcheck_interval="100ms", write_timeout="5s")
    c = harness.RawConnection(wd.port)
    c.send(b"POST /drain HTTP/1.1\r\nHost: t\r\nX-Delay-Ms: 400\r\nContent-Length: 3\r\n\r\nabc")
    wd.wait_for_log(r"Listening on port")
    wd.signal(signal.SIGTERM)
    r = c.read_response()
    assert r.status == 200 and r.body == b"cba"
    assert wd.wait_exit() == 0


# Built-in modes behind an embedder's wrapper exchange (examples/custom_mode/tagged_mode.cpp):
# the wrapper adds a header, and the kernel-moved bodies still reach the server through it.
# The byte counters in /proc/<pid>/io tell the fast paths from the copying ones.

def start_tagged(start_watchdog, mode, **env):
    return start_watchdog({"mode": "tagged-" + mode, **env},
                          binary=harness.example_binary("custom-mode-example"))


def pattern(size):
    block = bytes((i * 13 + i // 251) & 0xFF for i in range(1 << 16))
    return (block * (size // len(block) + 1))[:size]


def test_a_wrapped_static_mode_still_sends_files_with_sendfile(start_watchdog, tmp_path):
    size = 64 << 20
    body = pattern(size)
    (tmp_path / "big.bin").write_bytes(body)
    wd = start_tagged(start_watchdog, "static", static_path=str(tmp_path))
    before = wd.proc_io()
    r = request(wd.port, "GET", "/big.bin", timeout=60)
    after = wd.proc_io()
    assert r.status == 200 and r.header("X-Tagged") == "static"
    assert r.body == body
    # Reading costs one read-type syscall per 64 KiB chunk (1024 here); sendfile one per call of
    # up to 2 MiB. Fewer than one per 128 KiB can only be sendfile.
    syscalls = after["syscr"] - before["syscr"]
    assert syscalls < size // (128 << 10), f"{syscalls} read syscalls: the wrapper lost sendfile"


def test_a_wrapped_streaming_mode_still_splices_the_body_into_stdin(start_watchdog):
    # `wc -c` reads the whole body and answers with a few bytes: spliced, the body is never
    # written by the watchdog; copied, it would be written once into the pipe.
    size = 16 << 20
    wd = start_tagged(start_watchdog, "streaming", fprocess="wc -c")
    before = wd.proc_io()
    r = request(wd.port, "POST", "/", body=pattern(size), timeout=60)
    written = wd.proc_io()["wchar"] - before["wchar"]
    assert r.status == 200 and r.header("X-Tagged") == "streaming"
    assert r.body.strip() == str(size).encode()
    assert written < size // 10, f"the body went through user space: wchar {written}"


def test_a_wrapped_streaming_mode_still_splices_the_output(start_watchdog):
    size = 16 << 20
    wd = start_tagged(start_watchdog, "streaming", fprocess=f"head -c {size} /dev/zero",
                      OFWATCHDOG_SPLICE_OUTPUT="1")
    before = wd.proc_io()
    r = request(wd.port, "GET", "/", timeout=60)
    written = wd.proc_io()["wchar"] - before["wchar"]
    assert r.status == 200 and r.header("X-Tagged") == "streaming"
    assert r.body == bytes(size)
    # Read from the pipe and written to the socket: twice; spliced: counted once.
    assert written < size * 3 // 2, f"the output went through user space: wchar {written}"
