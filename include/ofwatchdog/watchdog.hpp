#pragma once
// The watchdog: one libuv loop serving a function on `port` and metrics on `metrics_port`.
//
//   ofwatchdog::ConfigResult loaded = ofwatchdog::load_config(environment);
//   ofwatchdog::Watchdog watchdog(loaded.config());
//   return watchdog.run();   // returns after SIGTERM/SIGINT or stop(), with the exit status
//
// To serve requests in-process instead of forking `fprocess`, pass a ModeStrategy of your own.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog {

class WatchdogImpl;
class ModeRegistry;

class OFWATCHDOG_API Watchdog {
public:
  // Uses the built-in mode named by `config.mode`.
  explicit Watchdog(Config config);
  // Uses the entry of `modes` named by `config.mode` (mode_registry.hpp); the strategy is
  // made here, so `modes` need not outlive the constructor.
  Watchdog(Config config, const ModeRegistry& modes);
  // Uses `mode` whatever `config.mode` says.
  Watchdog(Config config, std::unique_ptr<ModeStrategy> mode);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Binds, writes the lock file and serves until the graceful shutdown has finished. Returns
  // the process exit status: 0 after a graceful shutdown, non-zero when start-up failed.
  int run();

  // Starts the graceful shutdown as SIGTERM does. Safe to call from any thread, any time.
  void stop();

private:
  std::unique_ptr<WatchdogImpl> impl_;
};

// --- A program that serves its own function (docs/functions.md) ---------------------------
// The whole of its main():
//
//   int main() { return ofwatchdog::serve_function(ofwatchdog::make_function_mode(f)); }
//
// reads the process's environment as fwatchdog does (`mode` defaults to inproc), prints a bad
// value's message on stderr and returns its exit status, or serves until the drain ends.
OFWATCHDOG_API int serve_function(std::unique_ptr<ModeStrategy> mode);
// Its parts: `load_config` over `environment` with `mode=inproc` first (so the environment's
// own `mode` wins), its warnings and its error printed on stderr; and the process's environment
// as "NAME=value" entries.
OFWATCHDOG_API ConfigResult load_function_config(std::vector<std::string> environment);
OFWATCHDOG_API std::vector<std::string> process_environment();

// The exec probe of `-run-healthcheck` (an image's HEALTHCHECK): 0 while the lock file
// `$TMPDIR/.lock` is there, else 1 with "unable to find lock file." on stderr. It reads only
// TMPDIR from `environment`, so that a container whose configuration is broken in some
// unrelated way still reports its real health.
OFWATCHDOG_API int run_healthcheck(const std::vector<std::string>& environment);

// The version and commit printed by `-version`, set when the library was built: the version is
// the OFWATCHDOG_VERSION of ofwatchdog/version.hpp at that time.
OFWATCHDOG_API const char* version();
OFWATCHDOG_API const char* git_sha();

} // namespace ofwatchdog
