"""Start-up: what the binary loads and reads before its first request (docs/performance.md).

The of-watchdog binary carries libofwatchdog (and libuv, where the static archive is installed)
inside itself, and reads /proc/stat only when /metrics is first scraped. These tests look at the
running process's mappings and, under strace, at the files it opens.
"""

import os
import shutil
import signal

import pytest

import harness

STRACE = shutil.which("strace")


def mapped_files(pid):
    """The base names of the files mapped into the process."""
    names = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith("/"):
                names.add(os.path.basename(fields[5].strip()))
    return names


def test_binary_maps_no_libofwatchdog(start_watchdog):
    wd = start_watchdog({"fprocess": "cat"})
    names = mapped_files(wd.proc.pid)
    assert not [n for n in names if n.startswith("libofwatchdog")], sorted(names)
    if os.environ.get("OFWATCHDOG_UV_STATIC") == "1":
        assert not [n for n in names if n.startswith("libuv")], sorted(names)
    assert harness.request(wd.port, "GET", "/_/health").status == 200


def test_libcrypto_not_mapped_without_jwt_auth_or_wasm(start_watchdog):
    """Dynamic builds load libcrypto at its first use (docs/architecture.md, "Linking"): a watchdog
    that checks no tokens and runs no module never maps it. The static binary has it inside."""
    wd = start_watchdog({"fprocess": "cat"})
    assert harness.request(wd.port, "GET", "/_/health").status == 200
    names = mapped_files(wd.proc.pid)
    assert not [n for n in names if n.startswith("libcrypto")], sorted(names)


def _traced_children(pid):
    """Pids of the children of `pid` (strace's tracee)."""
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            found += [int(p) for p in f.read().split()]
    return found


def _opened(trace_path, path):
    with open(trace_path) as f:
        return sum(1 for line in f if f'"{path}"' in line and "openat(" in line)


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
def test_proc_stat_read_at_first_scrape_only(start_watchdog, tmp_path):
    trace = tmp_path / "openat.trace"
    # No drain wait on SIGTERM, so that the traced watchdog exits at once at the end.
    wd = start_watchdog({"fprocess": "cat", "healthcheck_interval": "0s"}, binary=STRACE,
                        args=("-qq", "-e", "trace=openat", "-o", str(trace), "--", harness.BIN))
    try:
        # Started and listening: nothing has asked for the start time yet.
        assert _opened(trace, "/proc/stat") == 0
        assert harness.request(wd.port, "GET", "/_/health").status == 200
        assert _opened(trace, "/proc/stat") == 0
        # The first scrape reads it; later scrapes reuse the value.
        for _ in range(2):
            resp = harness.request(wd.metrics_port, "GET", "/metrics")
            assert resp.status == 200
            assert b"\nprocess_start_time_seconds " in resp.body
        assert _opened(trace, "/proc/stat") == 1
    finally:
        # Stop the watchdog itself, so that strace exits on its own and nothing is left traced.
        for child in _traced_children(wd.proc.pid):
            os.kill(child, signal.SIGTERM)
        wd.wait_exit()
