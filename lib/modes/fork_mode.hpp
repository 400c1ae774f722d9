#pragma once
// The forking modes' strategy: one process per request, served by the ForkExchange kind the
// mode's OutputPolicy names. StreamingForkMode and SerializingForkMode only pick it.

#include <functional>
#include <memory>

#include "modes/fork_exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::modes {

class ForkMode : public ModeStrategy {
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
