#pragma once
// The compiled modules linked into this executable by `of-watchdog wasm-compile --bundle`
// (bundle_link.hpp): served with no cache, no dlopen and no compiler, when the module file
// mode=wasm is given has the sha256 one of them was built from.

#include <string>
#include <string_view>
#include <vector>

#include "wasm/module_abi.h"

namespace ofwatchdog::wasm {

// The entry point of the bundled module built from `sha256`, or null (also in a program with
// no bundle).
ofw_wasm_entry_v1 bundled_entry(std::string_view sha256);

// The sha256 of each bundled module, in the order they were bundled.
std::vector<std::string> bundled_modules();

} // namespace ofwatchdog::wasm
