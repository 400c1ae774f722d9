"""The command line: flags, the version line, the lock-file probe and configuration errors.

Most tests run the binary to completion with `harness.run_watchdog` (each exits on a flag or on a
configuration error); the last few start it to check that parsed values reach the watchdog.
"""

import json
import os
import re
import subprocess
import sys

import pytest

import harness

VERSION_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d Version: \S+\tSHA: \S+$")


def run(args=(), env=None, tmpdir="/tmp"):
    return harness.run_watchdog(args, env or {}, tmpdir=tmpdir)


# --- -version ---------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["-version", "--version", "-version=true", "--version=1"])
def test_version_logs_one_line_on_stderr(flag, tmp_path):
    rc, out, err = run([flag], {"mode": "bogus"}, tmp_path)  # the config is never loaded
    assert rc == 0
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert VERSION_LINE.match(lines[0]), lines[0]


def test_version_line_in_json(tmp_path):
    rc, out, err = run(["-version"], {"log_format": "json"}, tmp_path)
    assert rc == 0 and out == ""
    record = json.loads(err.strip())
    assert re.match(r"^Version: \S+\tSHA: \S+$", record["msg"])


def test_version_false_does_not_exit(tmp_path):
    # -version=false is a flag set to false, so start-up goes on to load the (broken) config.
    rc, _, err = run(["-version=false"], {}, tmp_path)
    assert rc == 1
    assert "Error loading config: " in err


# --- usage and bad flags ----------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["-h", "--h", "-help", "--help"])
def test_help_prints_usage_and_exits_0(flag, tmp_path):
    rc, out, err = run([flag], {}, tmp_path)
    assert rc == 0
    assert out == ""
    assert "Usage" in err
    assert "-run-healthcheck" in err and "-version" in err
    assert "Version:" not in err  # flags are parsed before the version line


def test_help_lists_every_variable_of_the_documentation_with_its_default(tmp_path):
    rc, _, err = run(["-h"], {}, tmp_path)
    assert rc == 0
    docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "config.md")
    table = open(docs).read().split("## Variables", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-zA-Z_0-9]+)` \| ([^|]*) \|", table, re.M)
    assert len(rows) > 30
    listed = dict(re.findall(r"^  ([a-zA-Z_0-9]+)(?: \(default (.*)\))?$", err, re.M))
    for name, default in rows:
        assert name in listed, f"{name} is not in -h"
        default = default.strip().replace("`", "")
        if default not in ("", "none", "-", "–"):
            assert listed[name] == default, f"{name}: -h says {listed[name]!r}, docs {default!r}"


@pytest.mark.parametrize("flag,name", [("-nope", "nope"), ("--nope", "nope"), ("-x=1", "x")])
def test_unknown_flag_exits_2(flag, name, tmp_path):
    rc, out, err = run([flag], {"fprocess": "cat"}, tmp_path)
    assert rc == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"flag provided but not defined: -{name}"
    assert any(line.startswith("Usage") for line in lines[1:])
    assert "Version:" not in err


def test_bad_boolean_value_exits_2(tmp_path):
    rc, _, err = run(["-version=maybe"], {}, tmp_path)
    assert rc == 2
    assert "maybe" in err and "Usage" in err


@pytest.mark.parametrize("args", [["positional", "-nope"], ["-", "-nope"], ["--", "-nope"]])
def test_flags_stop_at_the_first_non_flag(args, tmp_path):
    # "-nope" after the end of the flags is ignored, so the run fails on the config (1), not on
    # the flag (2).
    rc, _, err = run(args, {}, tmp_path)
    assert rc == 1, err
    assert "flag provided but not defined" not in err
    assert "Error loading config: " in err


# --- -run-healthcheck -------------------------------------------------------------------------

# An environment that cannot load (unknown mode and no fprocess): the probe must not care.
BROKEN = {"mode": "bogus", "port": "x"}


@pytest.mark.parametrize("flag", ["-run-healthcheck", "--run-healthcheck"])
def test_healthcheck_with_lock_file_exits_0(flag, tmp_path):
    (tmp_path / ".lock").write_bytes(b"")
    rc, out, err = run([flag], BROKEN, tmp_path)
    assert rc == 0, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and VERSION_LINE.match(lines[0]), err


def test_healthcheck_without_lock_file_exits_1(tmp_path):
    rc, out, err = run(["-run-healthcheck"], BROKEN, tmp_path)
    assert rc == 1
    assert out == ""
    lines = err.splitlines()
    assert VERSION_LINE.match(lines[0])
    assert err.endswith("\nunable to find lock file.\n")
    assert "Error loading config" not in err


def test_healthcheck_counts_only_a_missing_file_as_absent(tmp_path):
    # TMPDIR is a regular file, so stat fails with ENOTDIR, which is not "no such file".
    plain = tmp_path / "not-a-dir"
    plain.write_bytes(b"")
    rc, _, err = run(["-run-healthcheck"], BROKEN, plain)
    assert rc == 0, err


def test_version_flag_wins_over_healthcheck(tmp_path):
    rc, _, err = run(["-run-healthcheck", "-version"], BROKEN, tmp_path)
    # -version wins: it exits right after the version line, before the probe.
    assert rc == 0
    assert "unable to find lock file" not in err


# --- configuration errors ---------------------------------------------------------------------

CONFIG_ERRORS = [
    # (environment, exit status, text the message must contain)
    ({"fprocess": "cat", "mode": "HTTP"}, 2, ['"HTTP"', "mode"]),
    ({"fprocess": "cat", "mode": "afterburn"}, 2, ['"afterburn"', "mode"]),
    ({"fprocess": "cat", "port": "abc"}, 1, ['"abc"', "port"]),
    ({"fprocess": "cat", "port": "70000"}, 1, ['"70000"', "port"]),
    ({"fprocess": "cat", "port": "0", "metrics_port": "-1"}, 1, ['"-1"', "metrics_port"]),
    ({"fprocess": "cat", "max_inflight": "lots"}, 1, ['"lots"', "max_inflight"]),
    ({"fprocess": "cat", "port": "9999", "metrics_port": "9999"}, 1,
     ["port and metrics_port are both 9999"]),
    ({"fprocess": "cat", "log_format": "xml"}, 1, ['"xml"', "log_format"]),
    ({"fprocess": "cat", "log_buffer_size": "64k"}, 1,
     ['invalid log_buffer_size value: 64k, error: strconv.Atoi: parsing "64k": invalid syntax']),
    ({"fprocess": "cat", "write_timeout": "0"}, 1, ["HTTP write timeout must be over 0s"]),
    ({}, 1, ['provide a "function_process" or "fprocess" environmental variable for your function']),
    ({"fprocess": '["sh", -c]'}, 1, ["fprocess", '["sh", -c]'.replace('"', '\\"')]),
    ({"fprocess": "cat", "mode": "http"}, 1,
     ['For "mode=http" you must specify a valid URL for "http_upstream_url"']),
    ({"fprocess": "cat", "mode": "http", "upstream_url": "localhost:5000"}, 1,
     ['For "mode=http" you must specify a valid URL for "http_upstream_url", error: ',
      '"localhost:5000"', "upstream_url"]),
    ({"mode": "static", "static_path": ""}, 1,
     ['For mode=static you must specify the "static_path" to serve']),
    # Function authentication checks tokens against the function's name, so it needs one
    # (test_jwt_auth.py covers the rest of jwt_auth's start-up).
    ({"fprocess": "cat", "jwt_auth": "true"}, 1, ["OPENFAAS_NAME"]),
    ({"fprocess": "cat", "jwt_auth": "1"}, 1, ["OPENFAAS_NAME"]),
]


@pytest.mark.parametrize("env,status,parts", CONFIG_ERRORS,
                         ids=[",".join(f"{k}={v}" for k, v in e.items()) or "empty"
                              for e, _, _ in CONFIG_ERRORS])
def test_config_error(env, status, parts, tmp_path):
    rc, out, err = run([], env, tmp_path)
    assert rc == status, err
    assert out == ""
    lines = err.splitlines()
    assert VERSION_LINE.match(lines[0]), err
    assert lines[-1].startswith("Error loading config: "), err
    assert err.endswith("\n")
    for part in parts:
        assert part in lines[-1], (part, lines[-1])
    # Nothing was started: no lock file was written.
    assert not (tmp_path / ".lock").exists()


def test_config_error_order_reports_the_mode_first(tmp_path):
    rc, _, err = run([], {"mode": "bogus", "port": "x", "write_timeout": "0"}, tmp_path)
    assert rc == 2
    assert '"bogus"' in err.splitlines()[-1]


def test_function_process_wins_over_fprocess(tmp_path):
    # An empty function_process hides a good fprocess, as in the original.
    rc, _, err = run([], {"fprocess": "cat", "function_process": ""}, tmp_path)
    assert rc == 1
    assert 'provide a "function_process" or "fprocess"' in err


# --- malformed environment entries ------------------------------------------------------------

# Python's os and subprocess APIs cannot build an environment entry without '=', so a helper
# Python process calls execve(2) through ctypes with a raw environment block.
EXECVE_RAW = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
def block(items):
    arr = (ctypes.c_char_p * (len(items) + 1))()
    arr[:-1] = [s.encode() for s in items]
    arr[-1] = None
    return arr
argv = [sys.argv[1]]
env = sys.argv[2:]
libc.execve(argv[0].encode(), block(argv), block(env))
sys.exit("execve failed: %d" % ctypes.get_errno())
"""


def test_bad_environment_entries_are_logged(tmp_path):
    env = ["NOEQUALS", f"TMPDIR={tmp_path}", "=value", "mode=bogus"]
    p = subprocess.run([sys.executable, "-c", EXECVE_RAW, harness.BIN, *env],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=harness.DEFAULT_WAIT)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 2, err
    lines = err.splitlines()
    assert VERSION_LINE.match(lines[0]), err
    assert lines[1].endswith(" Bad environment: NOEQUALS"), err
    assert lines[2].endswith(" Bad environment: =value"), err
    assert lines[3].startswith('Error loading config: unknown watchdog mode "bogus"'), err


# --- the configuration reaches the watchdog ---------------------------------------------------

def test_json_fprocess_runs_with_spaces_in_arguments(start_watchdog):
    wd = start_watchdog({"fprocess": '["sh", "-c", "printf \'%s|\' \\"$0\\" \\"$1\\"", "a b", "c  d"]'})
    wd.wait_for_log(r'Watchdog mode: streaming\tfprocess: "\[\\"sh\\", ')
    resp = harness.request(wd.port, "POST", "/", body=b"")
    assert resp.status == 200
    assert resp.body == b"a b|c  d|"


def test_timeouts_line_shows_the_parsed_values(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "write_timeout": "1m30s", "read_timeout": "-5",
                         "exec_timeout": "1500ms", "healthcheck_interval": "bogus"})
    wd.wait_for_log(r"Timeouts: read: 30s write: 1m30s hard: 1.5s health: 1m30s$")


def test_ignored_values_start_with_a_warning_naming_them(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "read_timeout": "abc", "exec_timeout": "10x",
                         "suppress_lock": "yes", "jwt_auth_debug": "true"})
    wd.wait_for_log(r'Warning: ignoring read_timeout="abc" \(not a duration.*\); using 30s$')
    wd.wait_for_log(r'Warning: ignoring exec_timeout="10x" .*; using 30s$')
    wd.wait_for_log(r'Warning: ignoring suppress_lock="yes" .*; using false$')
    wd.wait_for_log(r'Note: jwt_auth_debug="true" has no effect while jwt_auth is off$')
    wd.wait_for_log(r"Timeouts: read: 30s write: 30s hard: 30s health: 30s$")
    assert harness.request(wd.port, "POST", "/", body=b"served").body == b"served"


def test_startup_names_the_settings_that_shape_requests(start_watchdog):
    wd = start_watchdog({"fprocess": "cat", "max_inflight": "5", "ready_path": "/ready",
                         "max_body_size": "100"})
    wd.wait_for_log(r"Settings: max_inflight=5 ready_path=/ready max_body_size=100$")
    plain = start_watchdog({"fprocess": "cat"})
    assert not any("Settings:" in line for line in plain.lines())


# --- -print-config ----------------------------------------------------------------------------

def test_print_config_prints_every_setting_as_used(tmp_path):
    rc, out, err = run(["-print-config"], {"fprocess": "cat", "read_timeout": "10",
                                           "exec_timeout": "bogus", "max_inflight": "3"}, tmp_path)
    assert rc == 0, err
    settings = dict(line.split("=", 1) for line in out.splitlines())
    assert settings["mode"] == "streaming"
    assert settings["fprocess"] == "cat"
    assert settings["port"] == "8080" and settings["metrics_port"] == "8081"
    assert settings["read_timeout"] == "10s"
    assert settings["exec_timeout"] == "30s"  # the fallback, as it will be used
    assert settings["healthcheck_interval"] == "30s"
    assert settings["max_inflight"] == "3"
    assert settings["suppress_lock"] == "false"
    assert settings["TMPDIR"] == str(tmp_path)
    # Every variable of the documentation's table that the common configuration reads is there.
    for name in ("write_timeout", "upstream_url", "http_buffer_req_body", "content_type",
                 "static_path", "max_body_size", "prefix_logs", "log_buffer_size", "log_format",
                 "ready_path", "log_callid", "wasm_root"):
        assert name in settings, name
    assert 'ignoring exec_timeout="bogus"' in err
    assert not (tmp_path / ".lock").exists()


def test_print_config_includes_the_mode_own_settings(tmp_path):
    rc, out, err = run(["-print-config"], {"mode": "wasm", "fprocess": "echo.wasm",
                                           "wasm_instances": "3", "wasm_root": str(tmp_path)},
                       tmp_path)
    assert rc == 0, err
    settings = dict(line.split("=", 1) for line in out.splitlines())
    assert settings["wasm_instances"] == "3"
    assert settings["wasm_queue"] == "12"
    assert settings["wasm_engine"] == "auto"
    assert settings["wasm_cache"] == str(tmp_path / "cache")


@pytest.mark.parametrize("env,status,parts", CONFIG_ERRORS[:4])
def test_print_config_fails_as_start_up_would(env, status, parts, tmp_path):
    rc, out, err = run(["-print-config"], env, tmp_path)
    start_rc, _, start_err = run([], env, tmp_path)
    assert rc == status == start_rc
    assert out == ""
    assert err.splitlines()[-1] == start_err.splitlines()[-1]
