#include "work/loop_log.hpp"

#include <string>

namespace ofwatchdog::work {

bool LoopLog::info(std::string_view line) {
  return inbox_.post([&log = log_, text = std::string(line)] { log.info(text); });
}

bool LoopLog::relay(std::string_view stream, std::string_view line) {
  return inbox_.post([&log = log_, name = std::string(stream), text = std::string(line)] {
    log.relay(name, text);
  });
}

} // namespace ofwatchdog::work
