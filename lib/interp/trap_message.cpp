#include "interp/trap_message.hpp"

namespace ofwatchdog::interp {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

} // namespace

wasm::TrapKind trap_kind_of(std::string_view message) {
  using wasm::TrapKind;
  // Loads, stores, memory.init/copy/fill and the table instructions all start so; the
  // compiled engine reports a table access out of range as an out-of-bounds access too.
  if (starts_with(message, "out of bounds"))
    return TrapKind::out_of_bounds_memory;
  if (message == "integer divide by zero")
    return TrapKind::integer_divide_by_zero;
  if (message == "integer overflow")
    return TrapKind::integer_overflow;
  if (message == "invalid conversion to integer")
    return TrapKind::invalid_conversion;
  if (message == "call stack exhausted")
    return TrapKind::call_stack_exhausted;
  // call_indirect's three failures, named as the compiled engine names them.
  if (message == "undefined table index")
    return TrapKind::table_out_of_bounds;
  if (message == "uninitialized table element")
    return TrapKind::undefined_element;
  if (message == "indirect call signature mismatch")
    return TrapKind::indirect_call_mismatch;
  if (message == "uncaught exception")
    return TrapKind::uncaught_exception;
  return TrapKind::unreachable;
}

} // namespace ofwatchdog::interp
