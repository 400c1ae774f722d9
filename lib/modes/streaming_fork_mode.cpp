// The streaming mode; see streaming_fork_mode.hpp.
#include "modes/streaming_fork_mode.hpp"

#include <csignal>
#include <vector>

#include "modes/fork_exchange.hpp"

namespace ofwatchdog::modes {

StreamingForkMode::StreamingForkMode() : registry_(std::make_shared<ForkRegistry>()) {}

StreamingForkMode::~StreamingForkMode() = default;

int StreamingForkMode::start(ModeContext& context) {
  // Writing to a function's stdin after it exited must fail with EPIPE rather than kill the
  // watchdog. The functions themselves still get the default action: libuv resets every
  // signal disposition in the child before exec.
  std::signal(SIGPIPE, SIG_IGN);
  return ModeStrategy::start(context);
}

void StreamingForkMode::handle(std::shared_ptr<Exchange> exchange) {
  ForkExchange::start(context_, std::move(exchange), registry_);
}

void StreamingForkMode::stop(std::function<void()> done) {
  if (registry_->live.empty()) {
    done();
    return;
  }
  registry_->on_empty = std::move(done);
  // shut_down may finish an exchange (and so change the set) at once.
  std::vector<ForkExchange*> live(registry_->live.begin(), registry_->live.end());
  for (ForkExchange* exchange : live) {
    if (registry_->live.count(exchange) != 0)
      exchange->shut_down();
  }
}

} // namespace ofwatchdog::modes

namespace ofwatchdog {
std::unique_ptr<ModeStrategy> make_streaming_fork_mode() {
  return std::make_unique<modes::StreamingForkMode>();
}
} // namespace ofwatchdog
