"""The images scripts/build-images builds, run as a container engine runs them: buildah, with
chroot isolation, runs each image's own CMD with its own ENV, WORKDIR and USER, all read from
the image's configuration (`buildah inspect`), and its HEALTHCHECK command inside the same
container. The test talks to it on loopback, checks the function, health, readiness and the
metrics port, then stops it with SIGTERM and expects the drain and exit status 0.

Each container runs in a network namespace of its own, made by the test, with only loopback in
it: the images keep their fixed ports (8080, 8081, and python3-http's Flask app on
127.0.0.1:5000), so nothing is overridden and nothing clashes with whatever else this machine
serves. The test's own sockets are made on a thread that has entered that namespace.

`scripts/run-tests --images` builds the images and names them in OFWATCHDOG_IMAGES
("watchdog=ofwatchdog:latest c-wasm=ofwatchdog-c-wasm:latest ..."); without it, without
buildah, or not as root, every test here skips and says why."""

import re
import concurrent.futures
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid

import pytest

import harness
from harness import request, wait_until

IMAGES = dict(word.split("=", 1) for word in os.environ.get("OFWATCHDOG_IMAGES", "").split())
# The commit the images were built from: `fwatchdog -version` in each must name it.
IMAGES_SHA = os.environ.get("OFWATCHDOG_IMAGES_SHA", "")


def why_not():
    if not IMAGES:
        return "OFWATCHDOG_IMAGES is not set (scripts/run-tests --images builds and names them)"
    if not shutil.which("buildah"):
        return "buildah is not installed"
    if os.geteuid() != 0:
        return "buildah's storage and chroot isolation need root"
    if not shutil.which("unshare") or not shutil.which("nsenter"):
        return "unshare and nsenter (util-linux) make the network namespace"
    return ""


pytestmark = pytest.mark.skipif(bool(why_not()), reason=why_not() or "-")

# Bounds: the buildah commands are local (no pull); a python3-http container starts Flask.
BUILDAH_TIMEOUT = 120
START_TIMEOUT = 60

# Brings the namespace's loopback up (SIOCGIFFLAGS, SIOCSIFFLAGS on "lo", IFF_UP), says so,
# and holds the namespace until its stdin closes.
HOLDER = r"""
import fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH22x", fcntl.ioctl(s, 0x8913, struct.pack("16sH22x", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))
print("up", flush=True)
sys.stdin.read()
"""


class NetNamespace:
    """A network namespace holding only loopback, and a thread inside it for the test's
    sockets (a socket belongs to the namespace of the thread that made it)."""

    def __init__(self):
        self.holder = subprocess.Popen(["unshare", "--net", "--", sys.executable, "-c", HOLDER],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            line = self._read_line(harness.DEFAULT_WAIT)
            assert line == b"up\n", f"the namespace's holder said {line!r}"
            self.path = f"/proc/{self.holder.pid}/ns/net"
            self._fd = os.open(self.path, os.O_RDONLY)
            self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                              initializer=self._enter)
            # Fails here, not at the first request, if the thread could not enter.
            self.call(lambda: None)
        except BaseException:
            self.close()
            raise

    def _read_line(self, timeout):
        reader = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            return reader.submit(self.holder.stdout.readline).result(timeout=timeout)
        finally:
            reader.shutdown(wait=False)

    def _enter(self):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(self._fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns into the test's network namespace")

    def call(self, fn, *args, **kwargs):
        """Runs fn in the namespace; every socket fn makes is one of the namespace's."""
        return self.pool.submit(fn, *args, **kwargs).result(timeout=harness.DEFAULT_WAIT * 3)

    def close(self):
        if getattr(self, "pool", None):
            self.pool.shutdown(wait=True)
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
        self.holder.stdin.close()
        try:
            self.holder.wait(timeout=harness.DEFAULT_WAIT)
        except subprocess.TimeoutExpired:
            self.holder.kill()
            self.holder.wait(timeout=harness.DEFAULT_WAIT)
        self.holder.stdout.close()


def buildah(*args, timeout=BUILDAH_TIMEOUT, check=True):
    return subprocess.run(["buildah", *args], capture_output=True, text=True, timeout=timeout,
                          check=check, stdin=subprocess.DEVNULL)


def image_config(image):
    """The image's Docker configuration: Cmd, Env, WorkingDir, User, Healthcheck."""
    out = buildah("inspect", "--type", "image", image).stdout
    return json.loads(out)["Docker"]["config"]


def descendants(pid):
    """Every process below `pid`, parents before children."""
    found, todo = [], [pid]
    while todo:
        for child in harness.child_pids(todo.pop(0)):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [w.decode() for w in f.read().split(b"\0")[:-1]]
    except OSError:
        return []


class Container:
    """A working container of `image`, run the way the image says; removed by close()."""

    def __init__(self, image, tmp_path):
        self.image = image
        self.config = image_config(image)
        self.name = f"ofwatchdog-test-{uuid.uuid4().hex[:12]}"
        buildah("from", "--quiet", "--name", self.name, image)
        self.tmp_path = tmp_path
        self.netns = None
        self.wd = None
        self.pid = None

    def run_args(self, command):
        """buildah run, in the namespace, with the image's USER, WORKDIR and ENV."""
        args = ["nsenter", f"--net={self.netns.path}"] if self.netns else []
        args += ["buildah", "run", "--isolation", "chroot",
                 "--workingdir", self.config.get("WorkingDir") or "/"]
        if self.config.get("User"):
            args += ["--user", self.config["User"]]
        for item in self.config.get("Env") or []:
            args += ["--env", item]
        return args + [self.name, "--", *command]

    def start(self):
        """Runs the image's CMD; returns once the watchdog listens on both ports."""
        self.netns = NetNamespace()
        # Its own session, so that close() can find and end everything the run started.
        argv = self.run_args(self.config["Cmd"])
        self.wd = harness.WatchdogProcess({}, self.tmp_path, args=argv[1:], binary=argv[0],
                                          wait_ready=False,
                                          popen_options={"start_new_session": True})
        self.wd.wait_for_log(r"Listening on port: 8080\b", START_TIMEOUT)
        self.wd.wait_for_log(r"Metrics listening on port: 8081\b", START_TIMEOUT)
        # The watchdog itself, the process whose command line is the image's CMD (below
        # buildah and its chroot helpers): the one a container engine signals.
        # buildah runs a bare name (`fwatchdog`) by its path on the image's PATH.
        cmd = self.config["Cmd"]

        def is_cmd(words):
            return (len(words) == len(cmd) and words[1:] == cmd[1:]
                    and os.path.basename(words[0]) == os.path.basename(cmd[0]))

        self.pid = wait_until(
            lambda: next((p for p in descendants(self.wd.proc.pid) if is_cmd(cmdline(p))), None),
            timeout=harness.DEFAULT_WAIT, what="the watchdog's process")

    def exec(self, command, timeout=BUILDAH_TIMEOUT):
        """Runs `command` in the container (a second buildah run on the same root, with the
        same USER, WORKDIR and ENV): what an engine's exec and HEALTHCHECK do."""
        return subprocess.run(self.run_args(command), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def healthcheck(self):
        """Runs the image's HEALTHCHECK command; returns its exit status."""
        test = self.config["Healthcheck"]["Test"]
        assert test[0] == "CMD", test  # exec form: no shell in a scratch image
        return self.exec(test[1:]).returncode

    def request(self, port, *args, **kwargs):
        return self.netns.call(request, port, *args, **kwargs)

    def close(self):
        if self.wd is not None:
            # Everything the run started: buildah, its chroot helpers, the watchdog and the
            # function's processes (which lead groups of their own).
            if self.wd.proc.poll() is None:
                for pid in [self.wd.proc.pid] + descendants(self.wd.proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.wd.close()
        if self.netns is not None:
            self.netns.close()
        buildah("rm", self.name, check=False)


@pytest.fixture
def container(tmp_path):
    made = []

    def make(image):
        c = Container(image, tmp_path / f"c{len(made)}")
        made.append(c)
        os.makedirs(c.tmp_path)
        return c

    yield make
    for c in made:
        c.close()


def check_serves_then_drains(c, call):
    """What every image must do: health, readiness, metrics, the HEALTHCHECK, the function
    (`call` checks one answer), then on SIGTERM the drain: unhealthy but serving for
    healthcheck_interval (the image's own, the default 30 s), then exit 0."""
    r = wait_until(lambda: c.request(8080, "GET", "/_/ready").status == 200 or None,
                   timeout=START_TIMEOUT, what="/_/ready answers 200")
    r = c.request(8080, "GET", "/_/health")
    assert (r.status, r.body) == (200, b"OK"), r
    call()
    r = c.request(8081, "GET", "/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4"), r
    assert b"# TYPE http_requests_total counter" in r.body, r.body[:500]
    assert b'http_requests_total{code="200"' in r.body, r.body[:2000]
    assert c.healthcheck() == 0
    # A container engine's stop: SIGTERM to the image's process.
    os.kill(c.pid, signal.SIGTERM)
    c.wd.wait_for_log(r"SIGTERM: no new connections in 30s")
    assert c.request(8080, "GET", "/_/health").status == 503
    assert c.healthcheck() != 0
    call()  # still served during healthcheck_interval
    # The image's healthcheck_interval (its default, write_timeout's 30 s), then the drain.
    assert c.wd.wait_exit(timeout=90) == 0, "\n".join(c.wd.lines())
    c.wd.wait_for_log(r"Exiting\. Active connections: 0", timeout=1)


def image(name):
    if name not in IMAGES:
        pytest.skip(f"OFWATCHDOG_IMAGES names no {name} image")
    return IMAGES[name]


def check_version(c, program):
    """`-version` names the commit the image was built from (GIT_SHA, docs/templates.md)."""
    out = c.exec([program, "-version"])
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    assert "SHA: unknown" not in text, text
    if IMAGES_SHA:
        # fwatchdog logs `SHA: <sha>`; fwatchdog-python prints `(SHA <sha>)`.
        assert re.search(rf"SHA:? {re.escape(IMAGES_SHA)}\b", text), text


def test_watchdog_image_is_scratch_with_the_static_binary(container):
    c = container(image("watchdog"))
    assert c.config["Cmd"] == ["/fwatchdog"], c.config
    root = buildah("mount", c.name).stdout.strip()
    try:
        files = sorted(os.path.relpath(os.path.join(d, f), root)
                       for d, _, names in os.walk(root) for f in names)
    finally:
        buildah("umount", c.name)
    assert files == ["fwatchdog"], files
    # No shell, so nothing but the program itself can run in it; it runs with no library.
    check_version(c, "/fwatchdog")


def test_python3_http_image(container):
    c = container(image("python3-http"))
    assert (c.config["User"], c.config["WorkingDir"]) == ("app", "/home/app"), c.config
    c.start()

    def call():
        r = c.request(8080, "POST", "/greet", body=b"image")
        assert (r.status, r.body) == (200, b"Hello, image, from POST /greet\n"), r
        assert r.header("Content-Type").startswith("text/plain"), r

    check_version(c, "fwatchdog")
    # It runs as the image's user, not as root.
    with open(f"/proc/{c.pid}/status") as f:
        uid = next(line.split()[1] for line in f if line.startswith("Uid:"))
    assert uid != "0"
    check_serves_then_drains(c, call)


def test_python3_streaming_image(container):
    c = container(image("python3-streaming"))
    assert (c.config["User"], c.config["WorkingDir"]) == ("app", "/home/app"), c.config
    c.start()

    def call():
        r = c.request(8080, "POST", "/", body=b"from the image")
        assert (r.status, r.body) == (200, b"POST 14 bytes: FROM THE IMAGE\n"), r

    check_version(c, "fwatchdog")
    check_serves_then_drains(c, call)


def test_python3_inproc_image(container):
    c = container(image("python3-inproc"))
    assert c.config["Cmd"] == ["fwatchdog-python"], c.config
    c.start()

    def call():
        r = c.request(8080, "POST", "/greet", body=b"image")
        assert (r.status, r.body) == (200, b"Hello, image, from POST /greet\n"), r
        # Called in the watchdog's own process: it started none.
        assert harness.child_pids(c.pid) == []

    check_version(c, "fwatchdog-python")
    check_serves_then_drains(c, call)


def test_c_wasm_image_serves_its_bundled_module_without_a_compiler(container):
    c = container(image("c-wasm"))
    assert c.config["Cmd"] == ["/fwatchdog"], c.config
    # The image holds the program, the module and /tmp: no compiler, no shell, no libc.
    root = buildah("mount", c.name).stdout.strip()
    try:
        files = sorted(os.path.relpath(os.path.join(d, f), root)
                       for d, _, names in os.walk(root) for f in names)
        assert os.path.isdir(os.path.join(root, "tmp"))
    finally:
        buildah("umount", c.name)
    assert files == ["fwatchdog", "wasm_root/bin/function.wasm"], files
    c.start()
    c.wd.wait_for_log(r"function\.wasm sha256 [0-9a-f]{64}: aot engine \(bundled into this "
                      r"program\)")

    def call():
        r = c.request(8080, "POST", "/greet", body=b"image")
        assert (r.status, r.body) == (200, b"Hello, image, from POST /greet\n"), r

    check_version(c, "/fwatchdog")
    check_serves_then_drains(c, call)
