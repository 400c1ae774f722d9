"""mode=wasm's wasm_engine=auto (docs/decisions.md, wasm-engines): no request waits for a
compiler. The interpreter serves from the start while the module compiles in the background,
new requests move to the compiled module once it is ready, a request already running finishes
where it began, a compiled module in the cache serves at once, a failed compile leaves the
interpreter serving, and a stop kills a compile still running.

The compile is held at a gate: CC is a script that waits on a FIFO before it runs the real
compiler, so each test decides when the compile may go on."""

import os
import re
import shutil
import signal
import stat

import pytest

import harness
from harness import RawConnection, request, wait_until

pytestmark = pytest.mark.skipif(bool(harness.STATIC_BIN),
                                reason="the static binary loads no compiled modules")

TS = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
TOOL = os.path.join(harness.FIXTURES_BUILD, "wasm_mode", "tool.wasm")


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(TOOL, root / "bin" / "tool.wasm")
    return root


class Gate:
    """A C compiler that waits until `open()`, then runs `cc`; it writes its pid first."""

    def __init__(self, directory):
        self.fifo = str(directory / "gate")
        self.pid_file = str(directory / "gate.pid")
        self.passed = str(directory / "gate.passed")
        os.mkfifo(self.fifo)
        self.cc = str(directory / "gated-cc")
        with open(self.cc, "w") as f:
            f.write(f"""#!/bin/sh
if [ ! -e {self.passed} ]; then
  echo $$ > {self.pid_file}
  read line < {self.fifo}
  : > {self.passed}
fi
exec cc "$@"
""")
        os.chmod(self.cc, stat.S_IRWXU)

    def waiting_pid(self):
        wait_until(lambda: os.path.exists(self.pid_file) and open(self.pid_file).read().strip(),
                   timeout=10, what="the compiler at the gate")
        return int(open(self.pid_file).read())

    def open(self):
        self.waiting_pid()
        with open(self.fifo, "w") as f:
            f.write("go\n")


def start_auto(start_watchdog, root, cache, **env):
    settings = {"mode": "wasm", "fprocess": "tool.wasm", "wasm_root": str(root),
                "wasm_cache": str(cache), "exec_timeout": "10s"}
    settings.update({k: str(v) for k, v in env.items()})
    return start_watchdog(settings)


def engine_metric(wd):
    text = request(wd.metrics_port, "GET", "/metrics").body.decode()
    m = re.search(r'^wasm_engine_info\{engine="(\w+)"\} 1$', text, re.M)
    return m.group(1) if m else None


def echo(wd, body):
    return request(wd.port, "POST", "/", headers={"X-Action": "echo"}, body=body)


def test_interpreter_serves_until_the_background_compile_is_ready(start_watchdog, root,
                                                                   tmp_path):
    gate = Gate(tmp_path)
    # The held request waits for the whole compile, up to 60 s on a busy machine.
    wd = start_auto(start_watchdog, root, tmp_path / "cache", CC=gate.cc, exec_timeout="90s")
    wd.wait_for_log(TS + r"wasm module .*: interpreter engine, while the aot engine compiles it "
                    r"\(loaded in [\d.]+ ms\)")
    gate.waiting_pid()
    # The compiler is held: requests are answered all the same, by the interpreter.
    assert echo(wd, b"before").body == b"before"
    assert engine_metric(wd) == "interpreter"
    # A request that began on the interpreter and is still reading its body...
    conn = RawConnection(wd.port)
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nX-Action: echo\r\nContent-Length: 10\r\n\r\nhalf ")
    gate.open()
    wd.wait_for_log(TS + r"wasm module .*: aot engine ready \(compiled in [\d.]+s in the "
                    r"background\); new requests run on it", timeout=60)
    assert engine_metric(wd) == "aot"
    # ...ends where it began, and new requests run on the compiled module.
    conn.send(b"done!")
    r = conn.read_response()
    assert (r.status, r.body) == (200, b"half done!")
    conn.close()
    for i in range(3):
        assert echo(wd, b"after %d" % i).body == b"after %d" % i
    # The compiled module is in the cache: the next start serves it at once.
    again = start_auto(start_watchdog, root, tmp_path / "cache")
    again.wait_for_log(TS + r"wasm module .*: aot engine \(from the cache\)")
    assert engine_metric(again) == "aot"
    assert echo(again, b"cached").body == b"cached"


def test_a_failed_background_compile_leaves_the_interpreter_serving(start_watchdog, root,
                                                                    tmp_path):
    wd = start_auto(start_watchdog, root, tmp_path / "cache", CC="/nonexistent/cc")
    wd.wait_for_log(TS + r"wasm: the background compile of .*tool.wasm failed; the interpreter "
                    r"goes on serving it: .*/nonexistent/cc")
    assert engine_metric(wd) == "interpreter"
    assert echo(wd, b"still served").body == b"still served"


def test_sigterm_kills_a_compile_still_running(start_watchdog, root, tmp_path):
    gate = Gate(tmp_path)
    wd = start_auto(start_watchdog, root, tmp_path / "cache", CC=gate.cc,
                    healthcheck_interval="0")
    compiler = gate.waiting_pid()
    assert echo(wd, b"x").body == b"x"
    wd.signal(signal.SIGTERM)
    # The compiler never gets through its gate; the stop does not wait for it.
    assert wd.wait_exit(timeout=10) == 0
    wait_until(lambda: not harness.pid_alive(compiler), timeout=5, what="the compiler killed")
    assert not any("aot engine ready" in line for line in wd.lines())

