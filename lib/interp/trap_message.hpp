#pragma once
// The interpreter reports a trap as text; wasm-answer answers with the engine-neutral kinds the
// compiled engine reports (trap_kind.hpp), so both engines give a client the same words.

#include <string_view>

#include "wasm/trap_kind.hpp"

namespace ofwatchdog::interp {

// The kind of a trap message of wabt's interpreter; unknown texts (which a validated module
// should never produce) count as `unreachable`, the trap a module cannot go on from.
wasm::TrapKind trap_kind_of(std::string_view message);

} // namespace ofwatchdog::interp
