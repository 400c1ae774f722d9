// Placeholder until the lifecycle lands.
#include "ofwatchdog/watchdog.hpp"

namespace ofwatchdog {
class WatchdogImpl {};
Watchdog::Watchdog(Config) {}
Watchdog::Watchdog(Config, std::unique_ptr<ModeStrategy>) {}
Watchdog::~Watchdog() = default;
int Watchdog::run() { return 0; }
void Watchdog::stop() {}
const char* version() { return OFWATCHDOG_VERSION; }
const char* git_sha() { return OFWATCHDOG_GIT_SHA; }
} // namespace ofwatchdog
