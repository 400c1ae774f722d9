#include "modes/mode_factory.hpp"

#include <fmt/format.h>

#include "modes/http_proxy_mode.hpp"
#include "modes/serializing_fork_mode.hpp"
#include "modes/static_file_mode.hpp"
#include "modes/streaming_fork_mode.hpp"

namespace ofwatchdog::modes {

std::variant<std::unique_ptr<ModeStrategy>, std::string> make_mode(const Config& config) {
  switch (config.mode) {
  case Mode::streaming:
    return make_streaming_fork_mode();
  case Mode::serializing:
    return make_serializing_fork_mode();
  case Mode::static_files:
    return make_static_file_mode();
  case Mode::http:
    return make_http_proxy_mode();
  case Mode::inproc:
    // The original starts and then panics on every request; refusing to start is kinder.
    return std::string("mode=inproc needs a handler linked into the program: use the library's "
                       "make_handler_mode() with Watchdog(config, mode)");
  default:
    return fmt::format("mode={} is not available in this build", mode_name(config.mode));
  }
}

} // namespace ofwatchdog::modes
