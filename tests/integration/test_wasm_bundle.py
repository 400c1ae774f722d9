"""`of-watchdog wasm-compile --bundle MODULE... -o PROGRAM` (docs/wasm-bundle.md): the modules'
compiled code is linked into a copy of the watchdog, which serves a module file built from the
same bytes on it, with no cache, no compiler and no dynamic loader; other modules are served as
without a bundle.

The kit is the one scripts/build-static leaves beside the static binary under
scripts/run-tests --static (found there by default), else one made from this build's own link
by scripts/make-bundle-kit."""

import hashlib
import os
import re
import shutil
import subprocess

import pytest

import harness
from harness import request

TOOL = os.path.join(harness.FIXTURES_BUILD, "wasm_mode", "tool.wasm")
ECHO = os.path.join(os.environ.get("OFWATCHDOG_WASM_FIXTURES", ""), "echo.wasm")
OTHER = os.path.join(os.environ.get("OFWATCHDOG_WASM_FIXTURES", ""), "exit_status.wasm")
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
BUNDLED = "aot engine (bundled into this program)"

pytestmark = pytest.mark.skipif(
    not (shutil.which("wasm2c") and shutil.which("cc") and shutil.which("objcopy")),
    reason="bundling needs wasm2c, cc and objcopy")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A program holding tool.wasm and echo.wasm (tool.wasm named twice: bundled once)."""
    kit = harness.bundle_kit_args(tmp_path_factory)
    program = tmp_path_factory.mktemp("bundle") / "fwatchdog"
    rc, out, err = harness.run_watchdog(
        ["wasm-compile", "--bundle", TOOL, ECHO, TOOL, "-o", str(program), *kit], timeout=300)
    assert rc == 0, err
    assert re.findall(r"bundled sha256 ([0-9a-f]{64})", out) == [sha256(TOOL), sha256(ECHO)]
    assert "serving 2 bundled modules" in out
    return program


def wasm_root(tmp_path, *modules):
    root = tmp_path / "wasm_root"
    (root / "bin").mkdir(parents=True)
    for module in modules:
        shutil.copy(module, root / "bin" / os.path.basename(module))
    return root


def no_compiler_env():
    """A PATH with neither wasm2c nor cc on it, as in a runtime image."""
    return {"PATH": "/nonexistent"}


def engine_info(wd):
    r = request(wd.metrics_port, "GET", "/metrics")
    return re.search(r'wasm_engine_info\{engine="(\w+)"\} 1', r.body.decode()).group(1)


def test_the_bundled_module_serves_compiled_with_no_cache_and_no_compiler(
        start_watchdog, bundle, tmp_path):
    root = wasm_root(tmp_path, TOOL)
    wd = start_watchdog({"mode": "wasm", "fprocess": "tool.wasm", "wasm_root": root,
                         "exec_timeout": "2s", **no_compiler_env()}, binary=str(bundle))
    wd.wait_for_log(rf"wasm module {re.escape(str(root))}/bin/tool.wasm sha256 "
                    rf"{sha256(TOOL)}: {re.escape(BUNDLED)}")
    assert engine_info(wd) == "aot"
    r = request(wd.port, "POST", "/", body=b"through the bundle")
    assert (r.status, r.body) == (200, b"through the bundle")
    # The compiled engine's behaviour: a trap is a 500 naming it, a loop is interrupted by the
    # timeout, and the instance is reused afterwards.
    r = request(wd.port, "POST", "/", headers={"X-Action": "trap"})
    assert (r.status, r.body) == (500, b"wasm trap: unreachable")
    r = request(wd.port, "POST", "/", headers={"X-Action": "loop", "X-Timeout": "200ms"})
    assert r.status == 504
    r = request(wd.port, "POST", "/", body=b"again")
    assert (r.status, r.body) == (200, b"again")
    # Nothing was compiled or cached.
    assert not (root / "cache").exists()


def test_each_module_of_a_bundle_is_found_by_its_bytes(start_watchdog, bundle, tmp_path):
    root = wasm_root(tmp_path, ECHO)
    wd = start_watchdog({"mode": "wasm", "fprocess": "echo.wasm", "wasm_root": root,
                         **no_compiler_env()}, binary=str(bundle))
    wd.wait_for_log(rf"sha256 {sha256(ECHO)}: {re.escape(BUNDLED)}")
    r = request(wd.port, "POST", "/", body=b"echo")
    assert (r.status, r.body) == (200, b"echo")


def test_a_module_not_in_the_bundle_is_served_as_without_one(start_watchdog, bundle, tmp_path):
    root = wasm_root(tmp_path, OTHER)
    wd = start_watchdog({"mode": "wasm", "fprocess": "exit_status.wasm", "wasm_root": root,
                         "wasm_engine": "interpreter", **no_compiler_env()},
                        binary=str(bundle))
    wd.wait_for_log(rf"sha256 {sha256(OTHER)}: interpreter engine")
    assert engine_info(wd) == "interpreter"
    assert not any(BUNDLED in line for line in wd.lines())


def test_wasm_engine_interpreter_is_obeyed_for_a_bundled_module(start_watchdog, bundle, tmp_path):
    root = wasm_root(tmp_path, TOOL)
    wd = start_watchdog({"mode": "wasm", "fprocess": "tool.wasm", "wasm_root": root,
                         "wasm_engine": "interpreter"}, binary=str(bundle))
    wd.wait_for_log(rf"sha256 {sha256(TOOL)}: interpreter engine \(loaded")
    assert engine_info(wd) == "interpreter"
    r = request(wd.port, "POST", "/", body=b"interpreted")
    assert (r.status, r.body) == (200, b"interpreted")


def test_bad_bundle_requests_say_why_and_write_nothing(tmp_path):
    program = tmp_path / "fwatchdog"
    program.write_text("kept")
    rc, _, err = harness.run_watchdog(["wasm-compile", "--bundle", TOOL])
    assert rc == 2 and "name the program to write with -o" in err and "--bundle" in err
    rc, _, err = harness.run_watchdog(["wasm-compile", "--bundle", "-o", str(program)])
    assert rc == 2 and "name the modules to bundle" in err
    rc, _, err = harness.run_watchdog(["wasm-compile", "--bundle", TOOL, "", "-o", str(program)])
    assert rc == 2 and "unexpected argument" in err
    rc, _, err = harness.run_watchdog(["wasm-compile", TOOL, "-o", str(program)])
    assert rc == 2 and "-o and --kit are for --bundle" in err
    rc, _, err = harness.run_watchdog(["wasm-compile", "--bundle", TOOL, "-o", str(program),
                                       "--kit", str(tmp_path / "nokit")])
    assert rc == 1 and f"no bundle kit in {tmp_path / 'nokit'}" in err
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\1\0\0\0garbage")
    rc, _, err = harness.run_watchdog(["wasm-compile", "--bundle", str(bad), "-o", str(program)])
    assert rc == 1 and f"{bad}: invalid module" in err
    # A failed bundle leaves the output as it was, and no working directory behind.
    assert program.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wasm", "fwatchdog"]


@pytest.mark.skipif(not harness.STATIC_BIN, reason="only the static build's bundle is static")
@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_a_static_bundle_serves_from_an_empty_root(start_watchdog, bundle, tmp_path):
    out = subprocess.run(["readelf", "-l", "-d", str(bundle)], capture_output=True,
                         text=True).stdout
    assert "INTERP" not in out and "NEEDED" not in out
    root = tmp_path / "root"
    for d in ("tmp", "wasm_root/bin"):
        (root / d).mkdir(parents=True)
    shutil.copy(bundle, root / "fwatchdog")
    shutil.copy(TOOL, root / "wasm_root" / "bin" / "tool.wasm")
    wd = start_watchdog({"mode": "wasm", "fprocess": "tool.wasm", "TMPDIR": "/tmp"},
                        tmpdir=root / "tmp", binary=CHROOT, args=(str(root), "/fwatchdog"),
                        extra_env_base={})
    wd.wait_for_log(rf"wasm module /wasm_root/bin/tool.wasm sha256 {sha256(TOOL)}: "
                    rf"{re.escape(BUNDLED)}")
    r = request(wd.port, "POST", "/", body=b"from scratch")
    assert (r.status, r.body) == (200, b"from scratch")
