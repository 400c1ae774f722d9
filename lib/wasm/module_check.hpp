#pragma once
// Whether a module is one the watchdog can run (docs/decisions.md, wasm-module-check): a WASI
// command with a `_start` function of type [] -> [], importing nothing but wasi_snapshot_preview1
// functions of the list with their listed signatures (and, from `env`, the CUDA driver functions
// of a GPU guest, docs/wasm-gpu.md), and defining (not importing) exactly one 32-bit memory,
// exported as `memory` as WASI requires.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "wasm/host_import.hpp"
#include "wasm/module_info.hpp"

namespace ofwatchdog::wasm {

constexpr std::uint64_t kWasmPageBytes = 65536;

// The reason `info` cannot run, or nothing when it can.
std::optional<std::string> check_module(const ModuleInfo& info);

struct InspectedModule {
  ModuleInfo info;
  std::string sha256; // of the whole file, 64 hex digits
  // The host function behind each function import, in import order.
  std::vector<HostImport> imports;
  bool uses_gpu() const {
    for (const HostImport& import : imports) {
      if (import.from == HostImport::From::cuda)
        return true;
    }
    return false;
  }
};

// Reads and checks a module file's bytes; the error names the reason (not the file, which the
// caller knows).
std::variant<InspectedModule, std::string> inspect_module(std::span<const std::uint8_t> bytes);

} // namespace ofwatchdog::wasm
