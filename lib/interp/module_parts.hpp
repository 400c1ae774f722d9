#pragma once
// The inside of an InterpretedModule, for the runner: wabt's description of the module and
// what the loader worked out from it once.

#include <wabt/feature.h>
#include <wabt/interp/interp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wasm/host_import.hpp"

namespace ofwatchdog::interp {

struct ModuleParts {
  wabt::Features features;
  wabt::interp::ModuleDesc desc;
  std::string sha256;
  // The host function of each import (every import is a function: wasm-module-check).
  std::vector<wasm::HostImport> imports;
  wabt::interp::Index start_export = 0;  // `_start` in desc.exports
  wabt::interp::Index memory_export = 0; // `memory` in desc.exports
  std::uint64_t initial_pages = 0;
};

} // namespace ofwatchdog::interp
