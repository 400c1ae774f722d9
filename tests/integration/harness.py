"""Starts the real of-watchdog binary and talks to it over loopback sockets.

Every wait here is bounded; every process started is reaped by `WatchdogProcess.close`.
The watchdog is started with `port=0` and `metrics_port=0` and the bound ports are read from its
start-up log (`Listening on port: N`, `Metrics listening on port: N`).
"""

import hashlib
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time

# scripts/run-tests --static runs the suite against the static binary (test_dropin.py).
STATIC_BIN = os.environ.get("OFWATCHDOG_STATIC_BIN", "")
BIN = STATIC_BIN or os.environ.get("OFWATCHDOG_BIN", "")
# fwatchdog-python (docs/python.md): scripts/build-static's copy under `run-tests --static`,
# else the normal build's; empty when it was not built (no libpython3.11-dev).
PYTHON_BIN = (os.environ.get("OFWATCHDOG_STATIC_PYTHON_BIN", "")
              or os.environ.get("OFWATCHDOG_PYTHON_BIN", ""))
FIXTURES = os.environ.get("OFWATCHDOG_FIXTURES", os.path.join(os.path.dirname(__file__), "..", "fixtures"))
FIXTURES_BUILD = os.environ.get("OFWATCHDOG_FIXTURES_BUILD", "")
EXAMPLES_BUILD = os.environ.get("OFWATCHDOG_EXAMPLES_BUILD", "")

DEFAULT_WAIT = 10.0

# True in the ASan/UBSan build: its allocator keeps freed memory in quarantine, so RSS figures
# say nothing about our buffers there. Tests that bound memory skip only that assertion.
SANITIZED = os.environ.get("OFWATCHDOG_SANITIZED") == "1"

# Whether the binary links libcrypto (the static build) rather than loading it at its first use
# (lib/crypto/libcrypto.hpp); only a binary that loads it can be shown one it cannot load.
LIBCRYPTO_LINKED = bool(STATIC_BIN) or os.environ.get("OFWATCHDOG_LIBCRYPTO_LINKED") == "1"


def unloadable_libcrypto(directory):
    """Environment under which a binary that loads libcrypto finds, first, a file of its name
    that is no library: `directory` gets the file."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "libcrypto.so.3"), "wb"):
        pass
    return {"LD_LIBRARY_PATH": str(directory)}


def report(name, value):
    """Records a measured figure (RSS, fd counts...) in $OFWATCHDOG_REPORT, one `name: value`
    line each, so a run's numbers can be quoted without re-running anything."""
    path = os.environ.get("OFWATCHDOG_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(f"{name}: {value}\n")


def example_binary(name):
    """Path of a program built from examples/ (e.g. "embed-example")."""
    return os.path.join(EXAMPLES_BUILD, name)


def fixture(name):
    """Path of a fixture script in tests/fixtures/, or of a compiled one in the build tree."""
    source = os.path.join(FIXTURES, name)
    if os.path.exists(source):
        return os.path.abspath(source)
    return os.path.join(FIXTURES_BUILD, name)


class WatchdogProcess:
    """One running of-watchdog; its stderr and stdout are collected line by line."""

    def __init__(self, env, tmpdir, args=(), wait_ready=True, extra_env_base=None, binary=None,
                 popen_options=None):
        """`popen_options` are passed on to subprocess.Popen (e.g. `preexec_fn` to set resource
        limits, `user` to drop privileges)."""
        base = dict(extra_env_base if extra_env_base is not None else os.environ)
        # The suite's own variables must not leak into the watchdog's configuration.
        for key in list(base):
            if key in ("mode", "fprocess", "function_process", "port", "metrics_port"):
                del base[key]
        base.update({"port": "0", "metrics_port": "0", "TMPDIR": str(tmpdir)})
        base.update({k: str(v) for k, v in env.items()})
        self.env = base
        self.tmpdir = str(tmpdir)
        self.lock_path = os.path.join(self.tmpdir, ".lock")
        self._lines = []
        self._out_lines = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [binary or BIN, *args], env=base, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **(popen_options or {}))
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._out_lines), daemon=True),
        ]
        for t in self._readers:
            t.start()
        self.port = None
        self.metrics_port = None
        if wait_ready:
            self.wait_ready()

    def _pump(self, stream, into):
        for raw in iter(stream.readline, b""):
            with self._cond:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    # --- logs -------------------------------------------------------------------------------
    def lines(self):
        with self._cond:
            return list(self._lines)

    def stdout_lines(self):
        with self._cond:
            return list(self._out_lines)

    def wait_for_log(self, pattern, timeout=DEFAULT_WAIT, stream="stderr", start=0):
        """Waits for a line matching `pattern` (a regex); returns the match. Fails after timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        store = self._lines if stream == "stderr" else self._out_lines
        with self._cond:
            while True:
                for line in store[start:]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no log line matching {pattern!r} within {timeout}s; log:\n" + "\n".join(store))
                self._cond.wait(min(left, 0.5))

    def wait_ready(self, timeout=DEFAULT_WAIT):
        self.port = int(self.wait_for_log(r"Listening on port: (\d+)", timeout).group(1))
        self.metrics_port = int(self.wait_for_log(r"Metrics listening on port: (\d+)", timeout).group(1))
        if self.env.get("suppress_lock") not in ("true", "1"):
            self.wait_for_log(r"Writing lock-file to: ", timeout)
            # The line is logged just before the file is written; it is written (and closed)
            # once no descriptor of the watchdog names it any more, so a test counting
            # descriptors from here does not count it.
            wait_until(lambda: os.path.exists(self.lock_path) and not self._holds(self.lock_path),
                       timeout, what="lock file written")

    def _holds(self, path):
        """Whether the watchdog has a descriptor open on `path`."""
        folder = f"/proc/{self.proc.pid}/fd"
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return False
        for name in names:
            try:
                if os.readlink(os.path.join(folder, name)) == path:
                    return True
            except OSError:
                pass
        return False

    # --- process ------------------------------------------------------------------------------
    def signal(self, signum=signal.SIGTERM):
        self.proc.send_signal(signum)

    def wait_exit(self, timeout=DEFAULT_WAIT):
        rc = self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(timeout)
        return rc

    def close(self):
        # The functions the watchdog started lead their own process groups, so killing the
        # watchdog alone would leave them running (a function server in http mode, a slow
        # function in the fork modes): their groups are killed too.
        groups = child_pids(self.proc.pid) if self.proc.poll() is None else []
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=DEFAULT_WAIT)
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for t in self._readers:
            t.join(DEFAULT_WAIT)

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def fd_targets(self):
        """What each open descriptor names (a path, `socket:[inode]`, `pipe:[inode]`), sorted:
        for messages that say which descriptor came or went."""
        targets = []
        for fd in os.listdir(f"/proc/{self.proc.pid}/fd"):
            try:
                targets.append(os.readlink(f"/proc/{self.proc.pid}/fd/{fd}"))
            except FileNotFoundError:
                pass  # closed between the listing and the look
        return sorted(targets)

    def proc_io(self):
        """The watchdog's /proc/<pid>/io counters (rchar, wchar, syscr, ...)."""
        with open(f"/proc/{self.proc.pid}/io") as f:
            return {k: int(v) for k, v in (line.split(":") for line in f)}

    def server_connections(self):
        """Sockets of the watchdog's port other than the listener, still owned by a process."""
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    port = int(fields[1].rsplit(":", 1)[1], 16)
                    if port == self.port and fields[3] != "0A" and fields[9] != "0":
                        count += 1
        return count

    def rss_kib(self, peak=False):
        key = "VmHWM:" if peak else "VmRSS:"
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
        return 0


def child_pids(pid):
    """The pids of the processes whose parent is `pid`, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: fields are counted after it.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def run_watchdog(args=(), env=None, timeout=DEFAULT_WAIT, tmpdir="/tmp"):
    """Runs the binary to completion (for flag and config tests); returns (rc, stdout, stderr)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("mode", "fprocess", "function_process", "port", "metrics_port")}
    base["TMPDIR"] = str(tmpdir)
    base.update(env or {})
    p = subprocess.run([BIN, *args], env=base, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def bundle_kit_args(tmp_path_factory):
    """The --kit words of `wasm-compile --bundle` for this run: none for the static binary,
    whose kit scripts/build-static leaves beside it (the default), else a kit made from this
    build's own link by scripts/make-bundle-kit."""
    if STATIC_BIN:
        assert os.path.isfile(os.path.join(os.path.dirname(STATIC_BIN), "bundle-kit",
                                           "link.args")), "build-static leaves a bundle kit"
        return []
    kit = tmp_path_factory.mktemp("kit") / "bundle-kit"
    subprocess.run([os.path.join(os.path.dirname(__file__), "..", "..", "scripts",
                                 "make-bundle-kit"),
                    os.environ["OFWATCHDOG_BUILD_ROOT"], str(kit)], check=True,
                   capture_output=True, timeout=120)
    return ["--kit", str(kit)]


# --- raw HTTP ---------------------------------------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body
        self.version = version

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {self.body[:200]!r}>"


class RawConnection:
    """A loopback TCP connection that reads responses byte-exactly."""

    def __init__(self, port, timeout=DEFAULT_WAIT, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("response did not arrive in time")
        # poll, not select: a client holding thousands of sockets has descriptors above
        # FD_SETSIZE.
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        if not poller.poll(max(int(left * 1000), 1)):
            raise TimeoutError("response did not arrive in time")
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        # Appended in place: `bytes += chunk` copies the whole buffer each time, which made a
        # 64 MiB body cost gigabytes of copying and outlast the server's write_timeout.
        if not isinstance(self.buf, bytearray):
            self.buf = bytearray(self.buf)
        self.buf += chunk
        return True

    def _read_until(self, marker, deadline):
        while marker not in self.buf:
            if not self._fill(deadline):
                raise ConnectionError(f"closed before {marker!r}; have {self.buf[:300]!r}")
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return bytes(out)

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ConnectionError(f"closed after {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return bytes(out)

    def wait_for_bytes(self, marker, timeout=None):
        """Waits until `marker` has arrived, without consuming anything."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while marker not in self.buf:
            if not self._fill(deadline):
                raise ConnectionError(f"closed before {marker!r}; have {self.buf[:300]!r}")

    def read_response(self, head_request=False, timeout=None):
        """Reads one response; 1xx interim responses are returned like any other."""
        deadline = time.monotonic() + (timeout or self.timeout)
        head = self._read_until(b"\r\n\r\n", deadline).decode("latin-1")
        lines = head.split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            if line:
                k, v = line.split(":", 1)
                headers.append((k, v.strip()))
        resp = Response(int(status), reason[0] if reason else "", headers, b"", version)
        if head_request or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                size_line = self._read_until(b"\r\n", deadline)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n", deadline)
                    break
                body += self._read_exact(size, deadline)
                self._read_exact(2, deadline)
            resp.body = body
        elif cl is not None:
            resp.body = self._read_exact(int(cl), deadline)
        else:
            while self._fill(deadline):
                pass
            resp.body, self.buf = bytes(self.buf), b""
        return resp

    def read_until_closed(self, timeout=None):
        """Everything the server sends until it closes the connection."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while self._fill(deadline):
                pass
        except ConnectionResetError:
            pass
        out, self.buf = bytes(self.buf), b""
        return out

    def is_closed(self, timeout=None):
        """True when the server closes the connection within the timeout (nothing more read)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while self._fill(deadline):
                pass
            return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self):
        self.sock.close()



def receive_chunked_hashed(conn, deadline):
    """Reads a chunked 200 off `conn` (a RawConnection), hashing its body without keeping it:
    returns (sha256 object, body bytes). For bodies of gigabytes."""
    head = conn._read_until(b"\r\n\r\n", deadline)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"transfer-encoding: chunked" in head.lower(), head
    got = hashlib.sha256()
    received = 0
    buf = bytearray(conn.buf)
    conn.buf = b""
    while True:
        # One chunk: "<hex size>\r\n<data>\r\n"; read more until it is complete.
        while True:
            eol = buf.find(b"\r\n")
            if eol >= 0:
                size = int(bytes(buf[:eol]).split(b";")[0], 16)
                if len(buf) >= eol + 2 + size + 2:
                    break
            assert time.monotonic() < deadline, "timed out receiving"
            chunk = conn.sock.recv(1 << 20)
            assert chunk, "connection closed early"
            buf += chunk
        if size == 0:
            return got, received
        got.update(memoryview(buf)[eol + 2:eol + 2 + size])
        received += size
        del buf[:eol + 2 + size + 2]


def echo_through(conn, total, deadline):
    """POSTs `total` bytes of a rotating pattern on `conn` from a thread while reading the
    chunked 200 that echoes them; returns (sha256 sent, sha256 received, bytes received)."""
    block = bytes((i * 31 + i // 251) & 0xFF for i in range(1 << 20))
    sent = hashlib.sha256()
    errors = []

    def send():
        try:
            conn.send(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode())
            for i in range(total // len(block)):
                piece = block[i % 256:] + block[:i % 256]
                sent.update(piece)
                conn.sock.sendall(piece)
        except OSError as e:  # pragma: no cover - reported by the assertion below
            errors.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        got, received = receive_chunked_hashed(conn, deadline)
    finally:
        sender.join(max(deadline - time.monotonic(), 1))
    assert not errors, errors
    return sent, got, received

def free_port():
    """A loopback port no socket holds now, for a program that must be told its port before it
    starts (an upstream, an issuer); a test that can let the program pick uses port 0."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# request() sends a body larger than this from a thread while it reads the answer.
STREAMED_BODY_THRESHOLD = 1 << 20


def request(port, method="GET", path="/", headers=None, body=b"", timeout=DEFAULT_WAIT):
    """One request on a fresh connection with Connection: close; returns a Response."""
    hdrs = {"Host": "127.0.0.1", "Connection": "close"}
    hdrs.update(headers or {})
    if body and "Content-Length" not in hdrs and "Transfer-Encoding" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    c = RawConnection(port, timeout)
    try:
        if len(body) <= STREAMED_BODY_THRESHOLD:
            c.send(head.encode("latin-1") + body)
            return c.read_response(head_request=(method == "HEAD"))
        # A function that answers while it reads (an echo) fills the socket buffers both ways
        # when its client sends the whole body before reading: both sides then wait until a
        # timeout ends the exchange. A real client reads while it sends; so does this one.
        failed = []

        def send_all():
            try:
                c.send(head.encode("latin-1") + body)
            except OSError as error:
                failed.append(error)  # an answer before the whole body is not an error

        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        try:
            return c.read_response(head_request=(method == "HEAD"))
        except (OSError, TimeoutError):
            if failed:
                raise failed[0]
            raise
        finally:
            # Unblocks a sender the server stopped reading from.
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sender.join(timeout)
    finally:
        c.close()


def upper_echo_chunked(port, size=64 * 1024 * 1024):
    """POSTs `size` bytes of lower-case letters, chunked, to /upper while reading the streamed
    answer at the same time, as a real client does; returns (status, head text, body). For the
    upper-casing echoes of the examples."""
    c = RawConnection(port, timeout=60)
    received = bytearray()

    def read_all():
        while not received.endswith(b"\r\n0\r\n\r\n"):
            chunk = c.sock.recv(1 << 20)
            if not chunk:
                break
            received.extend(chunk)

    reader = threading.Thread(target=read_all)
    reader.start()
    try:
        c.send(b"POST /upper HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = b"abcdefgh" * 8192
        for _ in range(size // len(block)):
            c.send(b"%x\r\n" % len(block) + block + b"\r\n")
        c.send(b"0\r\n\r\n")
    finally:
        reader.join(60)
        c.close()
    assert not reader.is_alive(), "the answer did not end within 60 s"
    return parse_chunked_response(bytes(received))


def parse_chunked_response(data):
    """Splits a whole raw chunked response into (status, headers text, body) without the
    quadratic copying of RawConnection (for responses of many MiB)."""
    head_end = data.index(b"\r\n\r\n")
    head = data[:head_end].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    pos = head_end + 4
    parts = []
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            break
        parts.append(data[pos:pos + size])
        pos += size + 2
    return status, head, b"".join(parts)


def wait_until(predicate, timeout=DEFAULT_WAIT, interval=0.02, what="condition"):
    """Polls `predicate` until it is true; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(interval)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is as good as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        # Gone between the two looks; a process being reaped makes the read fail with ESRCH.
        return False
    return True
