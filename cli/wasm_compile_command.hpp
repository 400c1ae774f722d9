#pragma once
// `<program> wasm-compile ...`: compiles WASI modules into mode=wasm's cache, or bundles them
// into a copy of the program, with the library's compile_wasm_module and bundle_wasm_modules
// (ofwatchdog/wasm_compile.hpp).

#include <string>
#include <string_view>
#include <vector>

namespace ofwatchdog::cli {

// The whole command: `args` are the words after "wasm-compile". Prints what it did, or why not
// with the usage; returns the exit status (0, 1 on failure, 2 on bad usage).
int wasm_compile_command(std::string_view program, const std::vector<std::string>& args,
                         const std::vector<std::string>& environment);

// The command's usage paragraph, for the program's -h.
std::string wasm_compile_usage(std::string_view program);

} // namespace ofwatchdog::cli
