#pragma once
// `OFWATCHDOG_NO_SPLICE=1` turns the forking modes' splice paths off (the streaming mode's
// socket and pipe splices, the serializing mode's pipe and file splices): a diagnostic switch,
// so the tests can show the difference and a kernel problem can be ruled out without a rebuild.

#include "util/env_switch.hpp"

namespace ofwatchdog::modes {

inline bool splice_disabled() {
  static const bool disabled = env_switch("OFWATCHDOG_NO_SPLICE", false);
  return disabled;
}

} // namespace ofwatchdog::modes
