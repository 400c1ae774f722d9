#pragma once
// The forking modes: one process per request, served by the ForkExchange kind the mode's
// OutputPolicy names. `mode=streaming` is OutputPolicy::stream (docs/streaming.md),
// `mode=serializing` OutputPolicy::collect (docs/serializing.md).

#include <functional>
#include <memory>

#include "modes/fork/fork_exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::modes {

class ForkMode final : public ModeStrategy {
public:
  explicit ForkMode(OutputPolicy policy);
  ~ForkMode() override;

  int start(ModeContext& context) override;
  void handle(std::shared_ptr<Exchange> exchange) override;
  // Kills whatever functions are still running and calls `done` once all are reaped.
  void stop(std::function<void()> done) override;

private:
  OutputPolicy policy_;
  std::shared_ptr<JobRegistry> registry_;
};

} // namespace ofwatchdog::modes

namespace ofwatchdog {

// The forking mode with `policy`, for the Watchdog to use when `mode=streaming` or
// `mode=serializing`.
std::unique_ptr<ModeStrategy> make_fork_mode(modes::OutputPolicy policy);

} // namespace ofwatchdog
