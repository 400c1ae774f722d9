#pragma once
// The compiled modules linked into this executable by `of-watchdog wasm-compile --bundle`
// (bundle_link.hpp): served with no cache, no dlopen and no compiler, when the module file
// mode=wasm is given has the sha256 one of them was built from.

#include <string_view>

#include "wasm/module_abi.h"

namespace ofwatchdog::wasm {

// The entry point of the bundled module built from `sha256`, or null (also in a program with
// no bundle).
ofw_wasm_entry_v1 bundled_entry(std::string_view sha256);

} // namespace ofwatchdog::wasm
