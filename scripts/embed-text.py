#!/usr/bin/env python3
"""Writes a text file into a C++ string constant, for a program that carries a source of
another language inside it (the wasm glue's C header, fwatchdog-python's bridge.py).

    embed-text.py NAME INPUT OUTPUT

NAME may be qualified (ofwatchdog::wasm::kModuleAbiHeader). An OUTPUT ending in .cpp defines
the constant for an `extern const char NAME[]` declared elsewhere; any other is a header with
an `inline constexpr` definition.
"""
import sys

qualified, source, output = sys.argv[1:4]
namespace, _, name = qualified.rpartition("::")
text = open(source, encoding="utf-8").read()
delimiter = "ofwtext"
if f"){delimiter}\"" in text:
    sys.exit(f"embed-text.py: {source} holds the raw string's end, ){delimiter}\"")
literal = f"R\"{delimiter}({text}){delimiter}\""
with open(output, "w", encoding="utf-8") as f:
    f.write(f"// Generated from {source.rsplit('/', 1)[-1]} by scripts/embed-text.py.\n")
    if output.endswith(".cpp"):
        f.write(f"namespace {namespace} {{\nextern const char {name}[] = {literal};\n}}\n")
    else:
        f.write("#pragma once\n")
        opening, closing = (f"namespace {namespace} {{\n", "}\n") if namespace else ("", "")
        f.write(f"{opening}inline constexpr char {name}[] = {literal};\n{closing}")
