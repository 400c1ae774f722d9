#pragma once
// Checked invariants: conditions the code relies on that only a defect in this program can
// break (not bad input, not a failing function, not a full disk). They are checked in every
// build, release included: carrying on past one would serve wrong bytes or touch freed memory,
// so the process names the place and the broken condition and stops. Out of memory takes the
// same road, as a failed `new` would, since no exception may cross the loop.
//
//   OFW_INVARIANT(handles_open_ == 0, "a splice freed with handles still open");
//   default: OFW_UNREACHABLE("an unknown response state");

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ofwatchdog::detail {

// `what` may be built at the call (a std::string converts): it lives until the process stops.
[[noreturn]] inline void invariant_broken(std::string_view what, const char* file, int line) {
  std::fprintf(stderr, "ofwatchdog: broken invariant at %s:%d: %.*s\n", file, line,
               static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

} // namespace ofwatchdog::detail

// Stops the process when `condition` is false; `what` says what was expected, in words.
#define OFW_INVARIANT(condition, what)                                                             \
  do {                                                                                             \
    if (!(condition)) [[unlikely]]                                                                 \
      ::ofwatchdog::detail::invariant_broken(what, __FILE__, __LINE__);                            \
  } while (0)

// A branch the code's own logic never takes.
#define OFW_UNREACHABLE(what) ::ofwatchdog::detail::invariant_broken(what, __FILE__, __LINE__)
