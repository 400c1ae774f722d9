// The of-watchdog command: command-line flags and the environment in, a running Watchdog out.
//
// Flags follow Go's `flag` package, as the original's do, because images and probes call them
// that way: `-flag` and `--flag` are the same, a boolean takes an optional `=true|false`, and
// parsing stops at the first argument that is not a flag. Everything else is configured through
// the environment (lib/config/).

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/log.hpp"
#include "ofwatchdog/mode_registry.hpp"

// kEnvironmentHelp, generated from docs/config.md (cli/meson.build).
#include "env_help.hpp"
#include "ofwatchdog/watchdog.hpp"
#include "wasm_compile_command.hpp"

namespace {

struct Flags {
  bool version = false;
  bool run_healthcheck = false;
  bool print_config = false;
};

// What the flag parser decided: go on, or exit with this status.
struct FlagResult {
  Flags flags;
  std::optional<int> exit_status;
};

void print_usage(std::string_view argv0) {
  fmt::print(stderr,
             "Usage: {} [flags]\n"
             "\n"
             "Serves a function over HTTP. The function, the mode, the ports and the timeouts\n"
             "are set with the environment variables listed below (docs/config.md and\n"
             "fwatchdog(1) say more).\n"
             "\n"
             "Flags:\n"
             "  -print-config\n"
             "        print every setting as it would be used (name=value, defaults included)\n"
             "        and exit 0, or exit as start-up would with its message\n"
             "  -run-healthcheck\n"
             "        exit 0 if the lock file $TMPDIR/.lock (/tmp/.lock when TMPDIR is unset)\n"
             "        exists and 1 if it does not; meant for exec health probes\n"
             "  -version\n"
             "        log the version and commit, then exit\n"
             "  -h, -help\n"
             "        print this help and exit\n"
             "\n"
             "{}\n"
             "Environment variables:\n{}",
             argv0, ofwatchdog::cli::wasm_compile_usage(argv0), kEnvironmentHelp);
}

FlagResult parse_flags(int argc, char** argv) {
  FlagResult result;
  std::string_view argv0 = argc > 0 ? argv[0] : "of-watchdog";
  auto fail = [&](const std::string& why) {
    fmt::print(stderr, "{}\n", why);
    print_usage(argv0);
    result.exit_status = 2;
    return result;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-')
      break; // the first non-flag ends the flags; positional arguments are ignored
    std::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);
    if (name.empty())
      break; // "--" ends the flags too
    if (name[0] == '-' || name[0] == '=')
      return fail(fmt::format("bad flag syntax: {}", arg));
    std::optional<std::string_view> value;
    if (std::size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    bool* target = name == "version"           ? &result.flags.version
                   : name == "run-healthcheck" ? &result.flags.run_healthcheck
                   : name == "print-config"    ? &result.flags.print_config
                                               : nullptr;
    if (target == nullptr) {
      if (name == "h" || name == "help") {
        print_usage(argv0);
        result.exit_status = 0;
        return result;
      }
      return fail(fmt::format("flag provided but not defined: -{}", name));
    }
    if (!value) {
      *target = true;
    } else if (std::optional<bool> b = ofwatchdog::parse_go_bool(*value)) {
      *target = *b;
    } else {
      return fail(fmt::format("invalid boolean value \"{}\" for -{}: expected true or false",
                              *value, name));
    }
  }
  return result;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "wasm-compile")
    return ofwatchdog::cli::wasm_compile_command(argv[0], {argv + 2, argv + argc},
                                                 ofwatchdog::process_environment());
  FlagResult parsed = parse_flags(argc, argv);
  if (parsed.exit_status)
    return *parsed.exit_status;

  std::vector<std::string> environment = ofwatchdog::process_environment();

  // The first line of every start, in the format the configuration asks for (read directly,
  // since the configuration may not load).
  auto format = ofwatchdog::find_variable(environment, "log_format") == "json"
                    ? ofwatchdog::LogFormat::json
                    : ofwatchdog::LogFormat::text;
  ofwatchdog::Logger logger(format, true);
  logger.info(fmt::format("Version: {}\tSHA: {}", ofwatchdog::version(), ofwatchdog::git_sha()));
  if (parsed.flags.version)
    return 0;

  // The probe does not load the configuration, so a container whose environment is broken in
  // some unrelated way still reports its real health (the 0.9.12 order).
  if (parsed.flags.run_healthcheck)
    return ofwatchdog::run_healthcheck(environment);

  const ofwatchdog::ModeRegistry modes = ofwatchdog::ModeRegistry::builtin();
  ofwatchdog::ConfigResult loaded = ofwatchdog::load_config(environment, modes);
  for (const std::string& warning : loaded.warnings)
    logger.info(warning);
  if (!loaded.ok()) {
    fmt::print(stderr, "Error loading config: {}\n", loaded.error().message);
    return loaded.error().exit_code;
  }
  if (parsed.flags.print_config) {
    fmt::print("{}", ofwatchdog::describe_config(loaded.config(), modes));
    return 0;
  }

  ofwatchdog::Watchdog watchdog(std::move(loaded.config()));
  return watchdog.run();
}
