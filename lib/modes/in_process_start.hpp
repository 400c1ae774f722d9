#pragma once
// The start every in-process request shares, whatever serves it (the loop-thread handler,
// coroutines, functions on worker threads): the exchange wrapped for the exec deadline and the
// access line, and a declared body over `max_body_size` refused before anything runs.

#include <memory>
#include <optional>

#include "modes/deadline_exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::modes {

struct InProcessStart {
  std::shared_ptr<DeadlineExchange> exchange;
  Duration timeout; // `exec_timeout` shortened by `X-Timeout`; <= 0: none
};

// Nothing when the request was refused: the 413 is sent, logged and in the access line.
std::optional<InProcessStart> start_in_process(std::shared_ptr<Exchange> exchange,
                                               const ModeContext& context);

} // namespace ofwatchdog::modes
