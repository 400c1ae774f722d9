#pragma once
// How one run of a module's _start ended.

#include <cstdint>
#include <string>

#include "wasm/trap_kind.hpp"

namespace ofwatchdog::wasm {

struct RunOutcome {
  enum class Kind : std::uint8_t {
    returned,    // _start returned
    exited,      // proc_exit(exit_code)
    trapped,     // a trap (`trap`) or a host call that failed
    interrupted, // RunControl::interrupt, or a host call that returned `interrupted`
  };
  Kind kind = Kind::returned;
  std::uint32_t exit_code = 0;
  TrapKind trap = TrapKind::unreachable;

  bool succeeded() const {
    return kind == Kind::returned || (kind == Kind::exited && exit_code == 0);
  }
  // The error text wasm-answer (docs/decisions.md) answers with: "exit status 3", "wasm trap:
  // unreachable", "interrupted"; empty for success.
  std::string error_text() const;
};

} // namespace ofwatchdog::wasm
