#include "wasm/run_outcome.hpp"

#include <fmt/format.h>

namespace ofwatchdog::wasm {

std::string RunOutcome::error_text() const {
  switch (kind) {
  case Kind::returned:
    return {};
  case Kind::exited:
    return exit_code == 0 ? std::string() : fmt::format("exit status {}", exit_code);
  case Kind::trapped:
    return fmt::format("wasm trap: {}", trap_text(trap));
  case Kind::interrupted:
    return "interrupted";
  }
  return {};
}

} // namespace ofwatchdog::wasm
