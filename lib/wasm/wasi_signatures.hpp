#pragma once
// The WASI preview1 functions a module may import, with the core-wasm signature each must
// have, read from wasi/wasi_functions.def so that the engine and the host share one list.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "wasi/host_call.hpp"
#include "wasm/module_info.hpp"

namespace ofwatchdog::wasm {

struct WasiSignature {
  std::string_view name;
  wasi::Function function;
  bool returns_i32 = false; // false only for proc_exit
  std::span<const ValueType> params;
};

// All functions of wasi_functions.def, in its order (so `all()[i].function` has index i).
std::span<const WasiSignature> wasi_signatures();
const WasiSignature* find_wasi_function(std::string_view name);

// Whether `type` is the core-wasm type of `signature`.
bool matches(const WasiSignature& signature, const FuncType& type);
// "(i32, i64) -> i32" for messages.
std::string describe(const FuncType& type);
FuncType type_of(const WasiSignature& signature);

} // namespace ofwatchdog::wasm
