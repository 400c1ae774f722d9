// The forking modes' strategy; see fork_mode.hpp.
#include "modes/fork/fork_mode.hpp"

#include <csignal>
#include <vector>

namespace ofwatchdog::modes {

ForkMode::ForkMode(OutputPolicy policy)
    : policy_(policy), registry_(std::make_shared<JobRegistry>()) {}

ForkMode::~ForkMode() = default;

int ForkMode::start(ModeContext& context) {
  // Writing to a function's stdin after it exited must fail with EPIPE rather than kill the
  // watchdog. The functions themselves still get the default action: libuv resets every
  // signal disposition in the child before exec.
  std::signal(SIGPIPE, SIG_IGN);
  return ModeStrategy::start(context);
}

void ForkMode::handle(std::shared_ptr<Exchange> exchange) {
  ForkExchange::start(context_, std::move(exchange), registry_, policy_);
}

void ForkMode::stop(std::function<void()> done) {
  registry_->stop_all(std::move(done));
}

} // namespace ofwatchdog::modes

namespace ofwatchdog {

std::unique_ptr<ModeStrategy> make_fork_mode(modes::OutputPolicy policy) {
  return std::make_unique<modes::ForkMode>(policy);
}

} // namespace ofwatchdog
