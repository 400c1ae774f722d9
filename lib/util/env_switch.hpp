#pragma once
// The watchdog's diagnostic switches (OFWATCHDOG_NO_SPLICE, OFWATCHDOG_SPLICE_OUTPUT,
// OFWATCHDOG_STATIC_INLINE): environment variables that turn a fast path on or off without a
// rebuild, so tests can compare both paths and a kernel problem can be ruled out.

#include <cstdlib>
#include <string_view>

namespace ofwatchdog {

// "0" is off, any other value is on; unset or empty gives `otherwise`.
inline bool env_switch(const char* name, bool otherwise) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    return otherwise;
  return std::string_view(value) != "0";
}

} // namespace ofwatchdog
