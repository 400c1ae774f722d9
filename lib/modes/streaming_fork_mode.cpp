// The streaming mode's factory; see streaming_fork_mode.hpp.
#include "modes/streaming_fork_mode.hpp"

namespace ofwatchdog {
std::unique_ptr<ModeStrategy> make_streaming_fork_mode() {
  return std::make_unique<modes::StreamingForkMode>();
}
} // namespace ofwatchdog
