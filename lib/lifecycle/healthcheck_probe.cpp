// run_healthcheck: see ofwatchdog/watchdog.hpp.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/watchdog.hpp"

namespace ofwatchdog {

// Only "no such file" counts as missing; any other stat failure (a permission problem, say) is
// no proof that the watchdog is down.
int run_healthcheck(const std::vector<std::string>& environment) {
  std::string_view tmpdir = find_variable(environment, "TMPDIR").value_or("");
  std::string path = fmt::format("{}/.lock", tmpdir.empty() ? "/tmp" : tmpdir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    std::fputs("unable to find lock file.\n", stderr);
    return 1;
  }
  return 0;
}

} // namespace ofwatchdog
