#pragma once
// The default mode: one process per request, body streamed to its stdin and its stdout
// streamed back (docs/streaming.md). The per-request work is ForkExchange's.

#include <memory>

#include "modes/fork_mode.hpp"

namespace ofwatchdog::modes {

class StreamingForkMode final : public ForkMode {
public:
  StreamingForkMode() : ForkMode(OutputPolicy::stream) {}
};

} // namespace ofwatchdog::modes

namespace ofwatchdog {
// The streaming mode, for the Watchdog to use when `mode=streaming`.
std::unique_ptr<ModeStrategy> make_streaming_fork_mode();
} // namespace ofwatchdog
