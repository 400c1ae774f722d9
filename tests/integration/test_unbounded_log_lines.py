"""`log_buffer_size=-1` (no line limit): the function's last stderr line is logged when it
exits even without a newline (docs/decisions.md, final-partial-line), in every mode that forks."""

import pytest

import harness

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "


@pytest.mark.parametrize("mode", ["streaming", "serializing"])
def test_last_line_without_newline_is_logged_per_request(start_watchdog, mode):
    wd = start_watchdog({"mode": mode, "log_buffer_size": "-1",
                         "fprocess": harness.fixture("partial_last_line.sh")})
    assert harness.request(wd.port, "GET", "/").body == b"ok\n"
    wd.wait_for_log(TS + r"stderr: whole line$")
    wd.wait_for_log(TS + r"stderr: last words without a newline$")


def test_last_line_without_newline_is_logged_when_the_function_server_exits(start_watchdog):
    # In http mode the function is the server: it exits at once, so the watchdog exits 1, and
    # its last words are still logged first.
    wd = start_watchdog({"mode": "http", "log_buffer_size": "-1",
                         "upstream_url": "http://127.0.0.1:9",
                         "fprocess": harness.fixture("partial_last_line.sh")}, wait_ready=False)
    assert wd.wait_exit() == 1
    lines = wd.lines()
    assert any(l.endswith("stderr: last words without a newline") for l in lines), lines
    assert any("Forked function has terminated: exit status 0" in l for l in lines), lines
    assert any(l.endswith("stdout: ok") for l in wd.stdout_lines()), wd.stdout_lines()
