"""The OpenFaaS templates of templates/ behind the real binary, configured by their own
Dockerfiles: each test reads the template's ENV lines, starts the watchdog with them in a copy of
the template (its WORKDIR), and calls the handler through it. Their images are not built here:
this machine has no container engine that can run them (docs/templates.md)."""

import os
import re
import shlex
import shutil
import signal

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


def test_templates_have_the_upstream_shape():
    for name in os.listdir(TEMPLATES):
        if not os.path.isdir(os.path.join(TEMPLATES, name)):
            continue
        files = set(os.listdir(os.path.join(TEMPLATES, name)))
        assert {"template.yml", "Dockerfile", "index.py", "function"} <= files, name
        yml = open(os.path.join(TEMPLATES, name, "template.yml")).read()
        assert re.search(r"^language: " + re.escape(name) + "$", yml, re.M), name
        assert re.search(r"^fprocess: ", yml, re.M), name
        dockerfile = open(os.path.join(TEMPLATES, name, "Dockerfile")).read()
        assert "COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog" in dockerfile, name
