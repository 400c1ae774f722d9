#pragma once
// Reads the parts of a module binary the engine needs (types, imports, functions, memories,
// exports, the start function, data segments) into a ModuleInfo. It checks the structure it
// reads and nothing else: wasm2c validates code when it compiles.

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "wasm/module_info.hpp"

namespace ofwatchdog::wasm {

// Either the module's description or a sentence saying what is malformed.
using ReadResult = std::variant<ModuleInfo, std::string>;

ReadResult read_module(std::span<const std::uint8_t> bytes);

} // namespace ofwatchdog::wasm
