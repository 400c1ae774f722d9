// The serializing mode's factory; see serializing_fork_mode.hpp.
#include "modes/serializing_fork_mode.hpp"

namespace ofwatchdog {
std::unique_ptr<ModeStrategy> make_serializing_fork_mode() {
  return std::make_unique<modes::SerializingForkMode>();
}
} // namespace ofwatchdog
