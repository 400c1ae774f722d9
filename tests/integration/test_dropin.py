"""The static fwatchdog as a drop-in (docs/static.md): inside an empty root holding only the
binary, a static busybox and /tmp, as in a scratch image, it serves every kind of function.

The root is entered with chroot, in the test machine's network namespace, so the test reaches
the watchdog on loopback. scripts/run-tests --static builds the binary (scripts/build-static)
and sets OFWATCHDOG_STATIC_BIN; without it, or without root and a static busybox, the tests
skip, saying why."""

import os
import shutil
import signal
import subprocess

import pytest

import harness
from harness import request, wait_until

STATIC_BIN = os.environ.get("OFWATCHDOG_STATIC_BIN", "")
BUSYBOX = "/bin/busybox"
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"

pytestmark = [
    pytest.mark.skipif(not STATIC_BIN, reason="OFWATCHDOG_STATIC_BIN is not set: "
                       "scripts/run-tests --static builds and tests the static binary"),
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root"),
]


@pytest.fixture
def root(tmp_path):
    """An empty root: /fwatchdog, /bin/busybox (static), /tmp and a small /www."""
    if not os.path.exists(BUSYBOX) or b"INTERP" in subprocess.run(
            ["readelf", "-l", BUSYBOX], capture_output=True).stdout:
        pytest.skip("a static /bin/busybox (Debian's busybox-static) is needed")
    r = tmp_path / "root"
    for d in ("bin", "tmp", "www"):
        (r / d).mkdir(parents=True)
    shutil.copy(STATIC_BIN, r / "fwatchdog")
    shutil.copy(BUSYBOX, r / "bin" / "busybox")
    (r / "www" / "index.html").write_text("<p>from busybox</p>\n")
    return r


def start_in_root(start_watchdog, root, env):
    settings = {"TMPDIR": "/tmp", "PATH": "/bin"}
    settings.update(env)
    return start_watchdog(settings, tmpdir=root / "tmp", binary=CHROOT,
                          args=(str(root), "/fwatchdog"), extra_env_base={})


def test_the_binary_has_no_interpreter_and_no_library():
    out = subprocess.run(["readelf", "-l", "-d", STATIC_BIN], capture_output=True,
                         text=True).stdout
    assert "INTERP" not in out and "NEEDED" not in out
    ldd = subprocess.run(["ldd", STATIC_BIN], capture_output=True, text=True)
    assert "not a dynamic executable" in ldd.stdout + ldd.stderr


def test_streaming_with_busybox_cat_then_a_healthcheck_and_a_drain(start_watchdog, root):
    wd = start_in_root(start_watchdog, root, {"fprocess": "/bin/busybox cat",
                                              "healthcheck_interval": "0"})
    r = request(wd.port, "POST", "/", body=b"through busybox")
    assert (r.status, r.body) == (200, b"through busybox")
    # -run-healthcheck in the same root finds the lock file the server wrote.
    check = subprocess.run([CHROOT, str(root), "/fwatchdog", "-run-healthcheck"],
                           env={"TMPDIR": "/tmp"}, capture_output=True, timeout=10)
    assert check.returncode == 0, check.stderr
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=10) == 0
    # Once drained, the lock file is gone and the health check fails.
    check = subprocess.run([CHROOT, str(root), "/fwatchdog", "-run-healthcheck"],
                           env={"TMPDIR": "/tmp"}, capture_output=True, timeout=10)
    assert check.returncode != 0


def test_http_mode_in_front_of_busybox_httpd_named_localhost(start_watchdog, root):
    # No /etc/hosts and no NSS modules: `localhost` is the loopback all the same.
    port = harness.free_port()
    wd = start_in_root(start_watchdog, root, {
        "mode": "http", "fprocess": f"/bin/busybox httpd -f -p 127.0.0.1:{port} -h /www",
        "upstream_url": f"http://localhost:{port}"})
    r = wait_until(lambda: (lambda x: x if x.status == 200 else None)(
        request(wd.port, "GET", "/index.html")), timeout=10, what="busybox httpd answering")
    assert r.body == b"<p>from busybox</p>\n"


def test_static_mode_serves_files(start_watchdog, root):
    wd = start_in_root(start_watchdog, root, {"mode": "static", "static_path": "/www"})
    # Like Go's file server, / serves index.html (and /index.html redirects to /).
    r = request(wd.port, "GET", "/")
    assert (r.status, r.body) == (200, b"<p>from busybox</p>\n")
    assert request(wd.port, "GET", "/absent").status == 404
