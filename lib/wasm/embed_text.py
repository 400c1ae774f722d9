#!/usr/bin/env python3
# Writes a C++ source defining `kModuleAbiHeader` as the text of the given file, for the glue
# generator to paste into every compiled module (glue_source.hpp).
import sys

text = open(sys.argv[1], encoding="utf-8").read()
if ")ofwabi\"" in text:
    sys.exit("the header contains the raw string's delimiter")
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("// Generated from module_abi.h by embed_text.py.\n")
    out.write("namespace ofwatchdog::wasm {\n")
    out.write('extern const char kModuleAbiHeader[] = R"ofwabi(' + text + ')ofwabi";\n')
    out.write("}\n")
