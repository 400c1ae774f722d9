"""The OpenFaaS templates of templates/ behind the real binary, configured by their own
Dockerfiles: each test reads the template's ENV lines, starts the watchdog with them in a copy of
the template (its WORKDIR), and calls the handler through it. The images themselves are built
and run as containers by test_images.py (scripts/run-tests --images, docs/templates.md)."""

import os
import re
import shlex
import shutil
import signal
import subprocess

import pytest

import harness
from harness import request, wait_until

TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "..", "templates")


def dockerfile_env(template):
    """The variables of the template's ENV instructions (continuation lines joined)."""
    with open(os.path.join(TEMPLATES, template, "Dockerfile")) as f:
        text = f.read().replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for word in shlex.split(line[4:]):
                key, _, value = word.partition("=")
                env[key] = value
    return env


@pytest.fixture
def template_dir(tmp_path, request):
    copy = tmp_path / request.param
    shutil.copytree(os.path.join(TEMPLATES, request.param), copy)
    return copy


def start_template(start_watchdog, template_dir):
    env = dockerfile_env(template_dir.name)
    assert env["fprocess"] == "python3 index.py"
    # Debian's python3, which has the template's packages (python3-flask, python3-waitress), as
    # in the image; not another python3 earlier in this machine's PATH.
    env["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")
    # No wait between SIGTERM and the drain (the default is write_timeout, 30s).
    env["healthcheck_interval"] = "0"
    return start_watchdog(env, popen_options={"cwd": str(template_dir)})


@pytest.mark.parametrize("template_dir", ["python3-http"], indirect=True)
def test_python3_http_template_serves_its_handler(start_watchdog, template_dir):
    wd = start_template(start_watchdog, template_dir)
    assert dockerfile_env("python3-http")["mode"] == "http"
    # The watchdog is ready once waitress answers its ready_path.
    wait_until(lambda: request(wd.port, "GET", "/_/ready").status == 200, timeout=20,
               what="the Flask app ready")
    r = request(wd.port, "POST", "/greet", body=b"template")
    assert (r.status, r.body) == (200, b"Hello, template, from POST /greet\n")
    assert r.header("Content-Type").startswith("text/plain")
    r = request(wd.port, "GET", "/")
    assert r.body == b"Hello, world, from GET /\n"
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=60) == 0


@pytest.mark.parametrize("template_dir", ["python3-streaming"], indirect=True)
def test_python3_streaming_template_runs_its_handler_per_request(start_watchdog, template_dir):
    wd = start_template(start_watchdog, template_dir)
    assert dockerfile_env("python3-streaming")["mode"] == "streaming"
    for body in (b"first", b"second call"):
        r = request(wd.port, "POST", "/", body=body)
        assert r.status == 200
        assert r.body == b"POST %d bytes: %s\n" % (len(body), body.upper())


PYTHON_BIN = harness.PYTHON_BIN


@pytest.mark.skipif(not PYTHON_BIN or not os.path.exists(PYTHON_BIN),
                    reason="fwatchdog-python is built only with libpython3.11-dev")
@pytest.mark.parametrize("template_dir", ["python3-inproc"], indirect=True)
def test_python3_inproc_template_calls_its_handler_in_process(start_watchdog, template_dir):
    env = dockerfile_env("python3-inproc")
    assert (env["mode"], env["fprocess"]) == ("inproc", "function.handler:handle")
    # The handler is python3-http's, unchanged.
    for name in ("handler.py", "__init__.py"):
        with open(os.path.join(TEMPLATES, "python3-http", "function", name)) as a, \
                open(template_dir / "function" / name) as b:
            assert a.read() == b.read(), name
    env.update({"PYTHONPATH": str(template_dir / "python"), "healthcheck_interval": "0"})
    if harness.SANITIZED:
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    wd = start_watchdog(env, binary=PYTHON_BIN, popen_options={"cwd": str(template_dir)})
    r = request(wd.port, "POST", "/greet", body=b"template")
    assert (r.status, r.body) == (200, b"Hello, template, from POST /greet\n")
    assert r.header("Content-Type") == "text/plain"
    # The handler runs inside the watchdog: no process was started for it.
    assert harness.child_pids(wd.proc.pid) == []
    # The image's HEALTHCHECK, run by the launcher itself: healthy while it serves, not after.
    with open(os.path.join(TEMPLATES, "python3-inproc", "Dockerfile")) as f:
        probe = re.search(r'^HEALTHCHECK .*CMD \["fwatchdog-python", "(.*)"\]$', f.read(),
                          re.M).group(1)

    def healthcheck():
        return subprocess.run([PYTHON_BIN, probe], env={"TMPDIR": wd.tmpdir},
                              capture_output=True, timeout=30).returncode

    assert healthcheck() == 0
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=60) == 0
    assert healthcheck() == 1


@pytest.fixture(scope="module")
def c_wasm_image(tmp_path_factory):
    """What templates/c-wasm's build stage puts in its image: the handler compiled to a WASI
    module as its RUN line does, and a copy of the watchdog with that module bundled."""
    image = tmp_path_factory.mktemp("c-wasm-image")
    (image / "wasm_root" / "bin").mkdir(parents=True)
    (image / "tmp").mkdir()
    module = image / "wasm_root" / "bin" / "function.wasm"
    subprocess.run(["clang", "--target=wasm32-wasi", "-O2", "-o", str(module),
                    os.path.join(TEMPLATES, "c-wasm", "function", "handler.c")], check=True,
                   timeout=120)
    rc, _, err = harness.run_watchdog(
        ["wasm-compile", "--bundle", str(module), "-o", str(image / "fwatchdog"),
         *harness.bundle_kit_args(tmp_path_factory)], timeout=300)
    assert rc == 0, err
    return image


@pytest.mark.skipif(not (shutil.which("clang") and shutil.which("wasm2c")),
                    reason="the c-wasm template is built with clang and wasm2c")
def test_c_wasm_template_serves_its_bundled_handler(start_watchdog, c_wasm_image):
    env = dockerfile_env("c-wasm")
    assert (env["mode"], env["fprocess"]) == ("wasm", "function.wasm")
    # The image's root is / : its wasm_root is the default /wasm_root, here the copy's.
    env.update({"wasm_root": str(c_wasm_image / "wasm_root"), "PATH": "/nonexistent",
                "healthcheck_interval": "0"})
    wd = start_watchdog(env, tmpdir=c_wasm_image / "tmp",
                        binary=str(c_wasm_image / "fwatchdog"))
    wd.wait_for_log(r"function\.wasm sha256 [0-9a-f]{64}: aot engine \(bundled into this "
                    r"program\)")
    r = request(wd.port, "POST", "/greet", body=b"template")
    assert (r.status, r.body) == (200, b"Hello, template, from POST /greet\n")
    wd.signal(signal.SIGTERM)
    assert wd.wait_exit(timeout=60) == 0


def test_templates_have_the_upstream_shape():
    for name in os.listdir(TEMPLATES):
        if not os.path.isdir(os.path.join(TEMPLATES, name)):
            continue
        files = set(os.listdir(os.path.join(TEMPLATES, name)))
        assert {"template.yml", "Dockerfile", "function"} <= files, name
        yml = open(os.path.join(TEMPLATES, name, "template.yml")).read()
        assert re.search(r"^language: " + re.escape(name) + "$", yml, re.M), name
        # The template's fprocess is the one its image runs.
        fprocess = re.search(r"^fprocess: (.*)$", yml, re.M).group(1)
        assert dockerfile_env(name)["fprocess"] == fprocess, name
        dockerfile = open(os.path.join(TEMPLATES, name, "Dockerfile")).read()
        if name == "python3-inproc":
            # No index.py: the watchdog is the server, and calls the handler itself.
            assert "requirements.txt" in os.listdir(os.path.join(TEMPLATES, name, "function"))
            assert "COPY --from=watchdog /src/build-static/fwatchdog-python " \
                   "/usr/bin/fwatchdog-python" in dockerfile, name
        elif name.startswith("python3-"):
            assert "index.py" in files, name
            assert "COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog" in dockerfile, name
        else:
            # Built on the watchdog's build stage, into a scratch image holding the program.
            assert "FROM ${WATCHDOG_BUILD_IMAGE} AS build" in dockerfile, name
            assert "wasm-compile --bundle" in dockerfile and "FROM scratch" in dockerfile, name
        assert re.search(r'^CMD \["/?(usr/bin/)?fwatchdog(-python)?"\]$', dockerfile, re.M), name
