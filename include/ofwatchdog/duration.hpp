#pragma once
// How the watchdog holds every timeout and interval: nanoseconds, the resolution of Go's
// time.Duration, which the original's configuration values and log lines are written in.

#include <chrono>

namespace ofwatchdog {

using Duration = std::chrono::nanoseconds;

} // namespace ofwatchdog
