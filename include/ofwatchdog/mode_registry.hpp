#pragma once
// Modes by name. `mode=` names an entry of a ModeRegistry: the library's built-in modes
// (`ModeRegistry::builtin()`: streaming, serializing, http, static, and inproc and wasm, which
// refuse to start in a build that cannot serve them), plus any an embedder adds. An entry owns
// what is particular to its mode: whether it runs `fprocess`, the checks of its own variables
// (so a bad value stops start-up with a message naming the variable), and how its strategy is
// made. A new mode is a new entry; nothing else in the library changes.
//
//   ofwatchdog::ModeRegistry modes = ofwatchdog::ModeRegistry::builtin();
//   modes.add({.name = "echo", .runs_fprocess = false,
//              .create = [](const ofwatchdog::Config&) -> ofwatchdog::ModeCreation {
//                return std::make_unique<EchoMode>();
//              }});
//   ofwatchdog::ConfigResult loaded = ofwatchdog::load_config(environment, modes);
//   ofwatchdog::Watchdog watchdog(loaded.config(), modes);

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog {

// The environment a configuration is loaded from: the value of a name, or nothing when it is
// not set (set but empty is an empty string; a name set twice keeps its last value).
using VariableLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

// A mode's strategy, or the reason it cannot be made (start-up stops and logs it).
using ModeCreation = std::variant<std::unique_ptr<ModeStrategy>, std::string>;

struct OFWATCHDOG_API ModeDescriptor {
  // The value of `mode=` that selects it, and the name in the `Watchdog mode:` line.
  std::string name;
  // Start-up stops without `fprocess` (or `function_process`) when true.
  bool runs_fprocess = true;
  // Reads and checks the mode's own variables into `config`. It runs after every common
  // variable has been read and checked, so its error is reported only when those are fine.
  // Optional.
  std::function<std::optional<ConfigError>(const VariableLookup& variables, Config& config)>
      configure;
  // Makes the strategy, once per Watchdog, on the thread that constructs it.
  std::function<ModeCreation(const Config& config)> create;
  // The mode's own settings as it will use them (`name`, `value`), defaults included, for
  // `-print-config`. Called only with a configuration that loaded. Optional.
  std::function<std::vector<std::pair<std::string, std::string>>(const Config& config)> describe;
};

class OFWATCHDOG_API ModeRegistry {
public:
  // No modes at all.
  ModeRegistry() = default;
  // The modes this library serves (a copy: add to it freely).
  static ModeRegistry builtin();

  // Adds `mode`, or replaces the entry of the same name (an embedder's own `streaming`, say).
  void add(ModeDescriptor mode);
  const ModeDescriptor* find(std::string_view name) const;
  // The names, in the order they were first added.
  std::vector<std::string> names() const;

private:
  std::vector<ModeDescriptor> modes_;
};

// Every setting of a loaded configuration as it will be used, defaults included: one
// `name=value` line per variable (the common ones, then the mode's own), for `-print-config`.
OFWATCHDOG_API std::string describe_config(const Config& config, const ModeRegistry& modes);

// load_config (config.hpp) with the modes of `modes` instead of the built-in ones.
OFWATCHDOG_API ConfigResult load_config(const std::vector<std::string>& environment,
                                        const ModeRegistry& modes);

} // namespace ofwatchdog
