#include "wasm/trap_kind.hpp"

namespace ofwatchdog::wasm {

std::string_view trap_text(TrapKind kind) {
  switch (kind) {
  case TrapKind::unreachable:
    return "unreachable";
  case TrapKind::out_of_bounds_memory:
    return "out of bounds memory access";
  case TrapKind::call_stack_exhausted:
    return "call stack exhausted";
  case TrapKind::integer_divide_by_zero:
    return "integer divide by zero";
  case TrapKind::integer_overflow:
    return "integer overflow";
  case TrapKind::invalid_conversion:
    return "invalid conversion to integer";
  case TrapKind::indirect_call_mismatch:
    return "indirect call type mismatch";
  case TrapKind::undefined_element:
    return "undefined element";
  case TrapKind::table_out_of_bounds:
    return "out of bounds table access";
  case TrapKind::uncaught_exception:
    return "uncaught exception";
  case TrapKind::memory_limit:
    return "initial memory exceeds the memory limit";
  case TrapKind::host_failure:
    return "host call failed";
  }
  return "unknown trap";
}

} // namespace ofwatchdog::wasm
