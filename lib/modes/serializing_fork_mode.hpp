#pragma once
// `mode=serializing`: one process per request, the whole body read before it starts, its
// stdout collected and sent with Content-Length once it has exited (docs/serializing.md; its
// rules are in docs/decisions.md). The per-request work is ForkExchange's, with
// OutputPolicy::collect.

#include <memory>

#include "modes/fork_mode.hpp"

namespace ofwatchdog::modes {

class SerializingForkMode final : public ForkMode {
public:
  SerializingForkMode() : ForkMode(OutputPolicy::collect) {}
};

} // namespace ofwatchdog::modes

namespace ofwatchdog {
// The serializing mode, for the Watchdog to use when `mode=serializing`.
std::unique_ptr<ModeStrategy> make_serializing_fork_mode();
} // namespace ofwatchdog
