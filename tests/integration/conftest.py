"""pytest fixtures shared by the integration tests."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


@pytest.fixture
def start_watchdog(tmp_path):
    """A factory: start_watchdog({"fprocess": "cat"}) -> a running WatchdogProcess.

    Each watchdog gets its own TMPDIR (so its own lock file) and is killed and reaped when the
    test ends.
    """
    started = []

    def start(env, **kwargs):
        tmpdir = kwargs.pop("tmpdir", None) or (tmp_path / f"wd{len(started)}")
        os.makedirs(tmpdir, exist_ok=True)
        wd = harness.WatchdogProcess(env, tmpdir, **kwargs)
        started.append(wd)
        return wd

    yield start
    for wd in started:
        wd.close()


def pytest_configure(config):
    if not harness.BIN or not os.path.exists(harness.BIN):
        raise pytest.UsageError("set OFWATCHDOG_BIN to the of-watchdog binary (meson test does)")
    config.addinivalue_line("markers", "aot_only: a mode=wasm test about the compiled engine "
                                       "alone (test_wasm_mode.py)")
