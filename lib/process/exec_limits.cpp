#include "process/exec_limits.hpp"

#include <unistd.h>

#include <fmt/format.h>

namespace ofwatchdog::process {

std::optional<std::string> exec_limit_fault(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& environment,
                                            std::size_t block_limit) {
  std::size_t block = 0;
  for (const std::string& arg : argv) {
    block += arg.size() + 1 + sizeof(char*);
  }
  for (const std::string& entry : environment) {
    if (entry.size() + 1 > kMaxExecString) {
      std::string name = entry.substr(0, entry.find('='));
      return fmt::format("the variable {} would be {} bytes, and one environment variable can "
                         "hold at most {}",
                         name, entry.size(), kMaxExecString - 1);
    }
    block += entry.size() + 1 + sizeof(char*);
  }
  if (block > block_limit) {
    return fmt::format("the environment would be {} bytes, and the function's arguments and "
                       "environment can hold at most {}",
                       block, block_limit);
  }
  return std::nullopt;
}

std::size_t exec_block_limit() {
  static const std::size_t kLimit = [] {
    long value = sysconf(_SC_ARG_MAX);
    return value > 0 ? static_cast<std::size_t>(value) : std::size_t{128 * 1024};
  }();
  return kLimit;
}

} // namespace ofwatchdog::process
