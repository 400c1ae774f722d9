#!/usr/bin/env python3
"""Checks that an include across a forbidden edge of the layer graph does not compile.

  forbidden_include.py COMPILE_COMMANDS REFERENCE PROBE HEADER

compiles PROBE with exactly the flags meson gives REFERENCE (a source of the folder under test,
taken from compile_commands.json), twice: with LAYER_PROBE_CONTROL defined the probe includes
only headers the folder may use and must compile, which proves the flags are right; without it
the compile must fail because HEADER is not found, not for any other reason.
"""
import json
import os
import shlex
import subprocess
import sys


def flags_of(compile_commands, reference):
    with open(compile_commands) as f:
        entries = json.load(f)
    for entry in entries:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        if path == os.path.realpath(reference):
            return entry
    sys.exit(f"no compile command for {reference} in {compile_commands}")


def probe_command(entry, probe):
    args = shlex.split(entry["command"])
    command = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg in ("-o", "-MF", "-MQ", "-MT"):
            skip_next = True  # the object and dependency files of the reference
        elif arg in ("-MD", "-MMD", "-c"):
            pass
        elif os.path.realpath(os.path.join(entry["directory"], arg)) == os.path.realpath(
            os.path.join(entry["directory"], entry["file"])
        ):
            command.append(os.path.abspath(probe))
        else:
            command.append(arg)
    return command + ["-fsyntax-only"]


def main():
    compile_commands, reference, probe, header = sys.argv[1:5]
    entry = flags_of(compile_commands, reference)
    command = probe_command(entry, probe)
    control = subprocess.run(
        command + ["-DLAYER_PROBE_CONTROL"], cwd=entry["directory"], capture_output=True, text=True
    )
    if control.returncode != 0:
        sys.exit(f"the control compile failed, so the flags are wrong:\n{control.stderr}")
    probed = subprocess.run(command, cwd=entry["directory"], capture_output=True, text=True)
    if probed.returncode == 0:
        sys.exit(f"{probe} compiled: {header} is reachable with the flags of {reference}")
    expected = f"{header}: No such file or directory"
    if expected not in probed.stderr:
        sys.exit(f"{probe} failed, but not with '{expected}':\n{probed.stderr}")
    print(f"{header} is out of reach with the flags of {reference}")


main()
