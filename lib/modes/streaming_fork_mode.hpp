#pragma once
// The default mode: one process per request, body streamed to its stdin and its stdout
// streamed back (modes.md §3). The per-request work is ForkExchange's.

#include <functional>
#include <memory>

#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::modes {

struct ForkRegistry;

class StreamingForkMode : public ModeStrategy {
public:
  StreamingForkMode();
  ~StreamingForkMode() override;

  int start(ModeContext& context) override;
  void handle(std::shared_ptr<Exchange> exchange) override;
  // Kills whatever functions are still running and calls `done` once all are reaped.
  void stop(std::function<void()> done) override;

private:
  std::shared_ptr<ForkRegistry> registry_;
};

} // namespace ofwatchdog::modes

namespace ofwatchdog {
// The streaming mode, for the Watchdog to use when `mode=streaming`.
std::unique_ptr<ModeStrategy> make_streaming_fork_mode();
} // namespace ofwatchdog
