// The modes of this library, by name, with the checks of their own variables.
#include <fmt/format.h>

#include "config/values.hpp"
#include "log/format.hpp"
#include "modes/fork/fork_mode.hpp"
#include "modes/http_proxy/http_proxy_mode.hpp"
#include "modes/static/static_file_mode.hpp"
#include "modes/wasm/wasm_mode.hpp"
#include "modes/wasm/wasm_settings.hpp"
#include "ofwatchdog/mode_registry.hpp"

namespace ofwatchdog {

namespace {

// The preferred name first: `http_upstream_url` wins over `upstream_url`, as in the original.
std::optional<std::string_view> upstream_variable(const VariableLookup& variables) {
  for (std::string_view name : {"http_upstream_url", "upstream_url"}) {
    if (variables(name))
      return name;
  }
  return std::nullopt;
}

std::optional<ConfigError> check_http(const VariableLookup& variables, Config& config) {
  constexpr std::string_view kNeedUrl =
      "For \"mode=http\" you must specify a valid URL for \"http_upstream_url\"";
  std::optional<std::string_view> name = upstream_variable(variables);
  if (config.upstream_url.empty())
    return ConfigError{std::string(name.value_or("http_upstream_url")), std::string(kNeedUrl), 1};
  if (std::optional<std::string> why = config::upstream_url_problem(config.upstream_url))
    return ConfigError{std::string(*name),
                       fmt::format("{}, error: {} in {}: {}", kNeedUrl,
                                   go_quote(config.upstream_url), *name, *why),
                       1};
  return std::nullopt;
}

std::optional<ConfigError> check_static(const VariableLookup& variables, Config& config) {
  // Only a `static_path` set to nothing is refused; unset, the default path is served.
  if (variables("static_path") && config.static_path.empty())
    return ConfigError{"static_path",
                       "For mode=static you must specify the \"static_path\" to serve", 1};
  return std::nullopt;
}

ModeCreation refuse(std::string why) {
  return why;
}

} // namespace

ModeRegistry ModeRegistry::builtin() {
  ModeRegistry modes;
  modes.add(
      {"streaming", true, nullptr,
       [](const Config&) -> ModeCreation { return make_fork_mode(modes::OutputPolicy::stream); },
       nullptr});
  modes.add(
      {"serializing", true, nullptr,
       [](const Config&) -> ModeCreation { return make_fork_mode(modes::OutputPolicy::collect); },
       nullptr});
  modes.add({"http", true, check_http,
             [](const Config&) -> ModeCreation { return make_http_proxy_mode(); }, nullptr});
  modes.add({"static", false, check_static,
             [](const Config&) -> ModeCreation { return make_static_file_mode(); }, nullptr});
  // The original starts and then panics on every request; refusing to start is kinder.
  modes.add({"inproc", false, nullptr,
             [](const Config&) {
               return refuse("mode=inproc needs a handler linked into the program: use the "
                             "library's make_handler_mode() with Watchdog(config, mode)");
             },
             nullptr});
  // fprocess names the module; its absence is reported by the mode's own check
  // (docs/decisions.md, wasm-module-check).
  modes.add({"wasm", false, check_wasm_variables,
             [](const Config&) -> ModeCreation { return make_wasm_mode(); },
             modes::describe_wasm_settings});
  return modes;
}

ConfigResult load_config(const std::vector<std::string>& environment) {
  static const ModeRegistry kBuiltin = ModeRegistry::builtin();
  return load_config(environment, kBuiltin);
}

} // namespace ofwatchdog
