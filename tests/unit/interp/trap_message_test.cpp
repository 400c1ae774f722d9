// The interpreter's trap texts become the engine-neutral kinds wasm-answer answers with.
#include <catch2/catch.hpp>

#include "interp/trap_message.hpp"

using ofwatchdog::interp::trap_kind_of;
using ofwatchdog::wasm::TrapKind;

TEST_CASE("each interpreter trap text maps to its kind", "[interp][trap]") {
  CHECK(trap_kind_of("unreachable executed") == TrapKind::unreachable);
  CHECK(trap_kind_of("out of bounds memory access: access at 70000+4 >= max value 65536") ==
        TrapKind::out_of_bounds_memory);
  CHECK(trap_kind_of("out of bounds table access: table.init out of bounds") ==
        TrapKind::out_of_bounds_memory);
  CHECK(trap_kind_of("integer divide by zero") == TrapKind::integer_divide_by_zero);
  CHECK(trap_kind_of("integer overflow") == TrapKind::integer_overflow);
  CHECK(trap_kind_of("invalid conversion to integer") == TrapKind::invalid_conversion);
  CHECK(trap_kind_of("call stack exhausted") == TrapKind::call_stack_exhausted);
  CHECK(trap_kind_of("undefined table index") == TrapKind::table_out_of_bounds);
  CHECK(trap_kind_of("uninitialized table element") == TrapKind::undefined_element);
  CHECK(trap_kind_of("indirect call signature mismatch") == TrapKind::indirect_call_mismatch);
  CHECK(trap_kind_of("uncaught exception") == TrapKind::uncaught_exception);
  // Nothing a validated module does gives another text; one that did could not go on.
  CHECK(trap_kind_of("something new") == TrapKind::unreachable);
}
