// The public face of the watchdog; the work is in WatchdogImpl.
#include "ofwatchdog/watchdog.hpp"

#include "lifecycle/watchdog_impl.hpp"
#include "ofwatchdog/version.hpp"

namespace ofwatchdog {

Watchdog::Watchdog(Config config) : Watchdog(std::move(config), ModeRegistry::builtin()) {}

Watchdog::Watchdog(Config config, const ModeRegistry& modes)
    : impl_(std::make_unique<WatchdogImpl>(std::move(config), nullptr, &modes)) {}

Watchdog::Watchdog(Config config, std::unique_ptr<ModeStrategy> mode)
    : impl_(std::make_unique<WatchdogImpl>(std::move(config), std::move(mode), nullptr)) {}

Watchdog::~Watchdog() = default;

int Watchdog::run() {
  return impl_->run();
}

void Watchdog::stop() {
  impl_->stop();
}

const char* version() {
  return OFWATCHDOG_VERSION;
}
const char* git_sha() {
  return OFWATCHDOG_GIT_SHA;
}

} // namespace ofwatchdog
