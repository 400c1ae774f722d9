// load_function_config and serve_function: the start of every program that serves its own
// function, so that each of them reads its environment and reports a bad value as fwatchdog
// does.
#include <cstdio>

#include "ofwatchdog/watchdog.hpp"

extern char** environ;

namespace ofwatchdog {

ConfigResult load_function_config(std::vector<std::string> environment) {
  // First, so that the environment's own `mode` wins (the last occurrence counts).
  environment.insert(environment.begin(), "mode=inproc");
  ConfigResult loaded = load_config(environment);
  for (const std::string& warning : loaded.warnings)
    std::fprintf(stderr, "%s\n", warning.c_str());
  if (!loaded.ok())
    std::fprintf(stderr, "Error loading config: %s\n", loaded.error().message.c_str());
  return loaded;
}

std::vector<std::string> process_environment() {
  std::vector<std::string> entries;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    entries.emplace_back(*e);
  return entries;
}

int serve_function(std::unique_ptr<ModeStrategy> mode) {
  ConfigResult loaded = load_function_config(process_environment());
  if (!loaded.ok())
    return loaded.error().exit_code;
  Watchdog watchdog(std::move(loaded.config()), std::move(mode));
  return watchdog.run();
}

} // namespace ofwatchdog
