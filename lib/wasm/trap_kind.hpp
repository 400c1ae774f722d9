#pragma once
// Why guest code stopped abnormally, with the texts wasm-answer (docs/decisions.md) puts after
// "wasm trap: ".

#include <cstdint>
#include <string_view>

namespace ofwatchdog::wasm {

enum class TrapKind : std::uint8_t {
  unreachable,
  out_of_bounds_memory,
  call_stack_exhausted,
  integer_divide_by_zero,
  integer_overflow,
  invalid_conversion,
  indirect_call_mismatch,
  // call_indirect through a slot that holds no function, or one past the table's end.
  undefined_element,
  table_out_of_bounds,
  uncaught_exception,
  // Not a wasm trap: the module's initial memory is larger than the run's memory limit, so
  // no instance could be made.
  memory_limit,
  // Not a wasm trap: the host threw instead of answering.
  host_failure,
};

std::string_view trap_text(TrapKind kind);

} // namespace ofwatchdog::wasm
