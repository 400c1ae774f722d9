#!/usr/bin/env python3
"""Writes a C++ header holding a text file as a string constant, for a program that carries a
source file of another language inside it (cli/python/bridge.py).

    embed-text.py NAME INPUT OUTPUT
"""
import sys

name, source, output = sys.argv[1:4]
text = open(source, encoding="utf-8").read()
delimiter = "ofwtext"
if f"){delimiter}\"" in text:
    sys.exit(f"embed-text.py: {source} holds the raw string's end, ){delimiter}\"")
with open(output, "w", encoding="utf-8") as f:
    f.write(f"#pragma once\n// Generated from {source.rsplit('/', 1)[-1]} by scripts/embed-text.py.\n")
    f.write(f"inline constexpr char {name}[] = R\"{delimiter}({text}){delimiter}\";\n")
