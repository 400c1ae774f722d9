// The ModeStrategy behind make_coroutine_mode: every request is wrapped for the exec deadline
// and the access line, refused with 413 when its declared body is too large, and otherwise
// served by a CoroutineCall that runs the handler's coroutine. The mode keeps every live call,
// so that its stop can cancel them and wait for their frames.
#include <unordered_map>
#include <vector>

#include "functions/coroutine_call.hpp"
#include "modes/in_process_start.hpp"
#include "ofwatchdog/coroutine.hpp"

namespace ofwatchdog {

namespace {

using functions::CoroutineCall;

class CoroutineMode final : public ModeStrategy {
public:
  explicit CoroutineMode(CoroutineHandler handler) : handler_(std::move(handler)) {}

  void handle(std::shared_ptr<Exchange> exchange) override {
    std::optional<modes::InProcessStart> started = modes::start_in_process(exchange, context_);
    if (!started)
      return;
    auto setup = functions::CallSetup::starting_now(started->timeout, *context_.config);
    auto call = std::make_shared<CoroutineCall>(std::move(started->exchange), *context_.log, setup,
                                                [this](CoroutineCall& ended) { forget(ended); });
    calls_.emplace(call.get(), call);
    call->start(handler_);
  }

  // After the drain the server has cancelled every exchange, which resumed the coroutines that
  // waited on one; a coroutine that awaits something else is told here, and the watchdog goes
  // on once its frame is gone too.
  void stop(std::function<void()> done) override {
    stopped_ = std::move(done);
    std::vector<std::shared_ptr<CoroutineCall>> live;
    for (auto& [key, call] : calls_)
      live.push_back(call);
    // A coroutine that waits on the call ends within `cancel`, and the last one calls `done`.
    for (auto& call : live)
      call->cancel(CancelReason::shutdown);
    if (calls_.empty() && stopped_)
      std::exchange(stopped_, nullptr)();
  }

private:
  void forget(CoroutineCall& call) {
    calls_.erase(&call);
    if (calls_.empty() && stopped_)
      std::exchange(stopped_, nullptr)();
  }

  CoroutineHandler handler_;
  std::unordered_map<CoroutineCall*, std::shared_ptr<CoroutineCall>> calls_;
  std::function<void()> stopped_; // the stop's `done`, until the last frame is gone
};

} // namespace

std::unique_ptr<ModeStrategy> make_coroutine_mode(CoroutineHandler handler) {
  return std::make_unique<CoroutineMode>(std::move(handler));
}

} // namespace ofwatchdog
