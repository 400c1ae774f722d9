#!/usr/bin/env python3
"""Turns the variables table of docs/config.md, the one list of every environment variable, into
what the program and its package show, so that they cannot drift from the documentation:

  config-docs.py help DOCS OUT.hpp   the `-h` text's variable list, as a C++ string constant
  config-docs.py man  DOCS OUT.1     the fwatchdog(1) man page (roff)

Each row is `| \\`name\\` | default | accepted values | on a bad value |`; markdown code and
emphasis are dropped, links keep their text."""

import re
import sys
import textwrap


def rows(docs_path):
    """(name, default, accepted, on_bad) for each row of the "## Variables" table."""
    found = []
    in_section = False
    with open(docs_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                in_section = line.strip() == "## Variables"
                continue
            if not in_section or not line.startswith("| `"):
                continue
            cells = [c.strip() for c in split_cells(line.strip()[1:-1])]
            if len(cells) < 3:
                continue
            found.append((plain(cells[0]), plain(cells[1]), plain(cells[2]),
                          plain(cells[3]) if len(cells) > 3 else ""))
    if not found:
        sys.exit(f"{docs_path}: no rows in its '## Variables' table")
    return found


def split_cells(text):
    """Splits a table row on `|`, except inside `code`."""
    cells, current, in_code = [], "", False
    for ch in text:
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append(current)
            current = ""
        else:
            current += ch
    cells.append(current)
    return cells


def plain(text):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("`", "").replace("**", "")
    return re.sub(r"\s+", " ", text).strip()


def help_text(table):
    out = []
    for name, default, accepted, _ in table:
        shown = "" if default in ("", "-", "–", "none") else f" (default {default})"
        out.append(f"  {name}{shown}")
        for piece in textwrap.wrap(accepted, 84):
            out.append(f"        {piece}")
    return "\n".join(out) + "\n"


def cpp_string(text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    lines = escaped.split("\n")
    return "\n".join(f'    "{line}\\n"' for line in lines[:-1])


def roff(text):
    text = text.replace("\\", "\\e")
    # A line may not start with a control character.
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def man_page(table):
    out = [".TH FWATCHDOG 1 \"\" \"ofwatchdog\" \"User Commands\"",
           ".SH NAME",
           "fwatchdog, of-watchdog \\- serve a function over HTTP, in front of a process, a "
           "server, files or a WebAssembly module",
           ".SH SYNOPSIS",
           ".B fwatchdog",
           "[\\fB\\-run\\-healthcheck\\fR | \\fB\\-version\\fR | \\fB\\-h\\fR]",
           ".br",
           ".B fwatchdog wasm\\-compile",
           ".I MODULE",
           "[\\fB\\-\\-cache\\fR \\fIDIR\\fR]",
           ".SH DESCRIPTION",
           roff("fwatchdog is a re-implementation of the OpenFaaS of-watchdog: it listens on port "
                "8080, runs the function named by fprocess in the chosen mode (streaming, "
                "serializing, http, static, inproc or wasm), answers the health endpoints "
                "/_/health and /_/ready, writes the lock file $TMPDIR/.lock while healthy, and "
                "serves Prometheus metrics on port 8081. On SIGTERM it stops accepting "
                "connections, lets the requests in flight finish within write_timeout, and "
                "exits 0."),
           ".SH OPTIONS",
           ".TP", "\\fB\\-run\\-healthcheck\\fR",
           "Exit 0 when the lock file exists and 1 when it does not, for exec health probes.",
           ".TP", "\\fB\\-version\\fR", "Log the version and commit, then exit.",
           ".TP", "\\fB\\-h\\fR, \\fB\\-help\\fR",
           "Print the flags and every environment variable with its default, then exit.",
           ".TP", "\\fBwasm\\-compile\\fR \\fIMODULE\\fR [\\fB\\-\\-cache\\fR \\fIDIR\\fR]",
           "Compile a WASI module for mode=wasm into its cache, for example in an image build.",
           ".SH ENVIRONMENT",
           roff("The configuration is read once, at start-up, from these variables. A bad value "
                "stops start-up with a message naming the variable, except where noted.")]
    for name, default, accepted, on_bad in table:
        out.append(".TP")
        shown = "" if default in ("", "-", "–") else f" (default: {default})"
        out.append(roff(f"\\fB{name}\\fR{shown}"))
        out.append(roff(accepted + (f" On a bad value: {on_bad}" if on_bad else "")))
    out += [".SH EXIT STATUS",
            roff("0 after a graceful shutdown; 1 when start-up fails (a bad value, a port in "
                 "use, a function that cannot start); 2 for an unknown mode or flag."),
            ".SH FILES",
            ".TP", "\\fI$TMPDIR/.lock\\fR",
            "Present while the watchdog is healthy (\\fI/tmp/.lock\\fR when TMPDIR is unset).",
            ".SH SEE ALSO",
            "The project's docs/config.md, docs/static.md and docs/wasm-mode.md."]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("help", "man"):
        sys.exit(__doc__)
    table = rows(sys.argv[2])
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        if sys.argv[1] == "help":
            f.write("// Generated by scripts/config-docs.py from docs/config.md; do not edit.\n"
                    "#pragma once\n\n"
                    "constexpr const char* kEnvironmentHelp =\n"
                    + cpp_string(help_text(table)) + ";\n")
        else:
            f.write(man_page(table))


if __name__ == "__main__":
    main()
