// load_config: the environment -> Config, with the original's parsing rules and validation
// order, plus the corrections this project makes (see docs/config.md).
#include <fmt/format.h>

#include <cctype>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/values.hpp"
#include "log/format.hpp"
#include "ofwatchdog/config.hpp"
#include "ofwatchdog/mode_registry.hpp"

namespace ofwatchdog {

namespace {

// The environment as a lookup table. A name set twice keeps its last value, as a shell would.
class Environment {
public:
  Environment(const std::vector<std::string>& entries, std::vector<std::string>& warnings)
      : warnings_(&warnings) {
    for (const std::string& entry : entries) {
      std::size_t eq = entry.find('=');
      if (eq == std::string::npos || eq == 0) {
        warnings.push_back("Bad environment: " + entry);
        continue;
      }
      last_index_[entry.substr(0, eq)] = valid_.size();
      valid_.push_back(entry);
    }
  }

  // The value of `name`, or nothing when it is not set (set but empty is an empty string).
  std::optional<std::string_view> get(std::string_view name) const {
    auto it = last_index_.find(name);
    if (it == last_index_.end())
      return std::nullopt;
    std::string_view entry = valid_[it->second];
    return entry.substr(name.size() + 1);
  }

  // What forked functions inherit: one entry per name, at the place of its last occurrence
  // (the order Go's os/exec keeps when it removes duplicates).
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < valid_.size(); ++i) {
      std::string_view name = std::string_view(valid_[i]).substr(0, valid_[i].find('='));
      if (last_index_.find(name)->second == i)
        out.push_back(valid_[i]);
    }
    return out;
  }

  // A value the original ignores silently (a bad duration or boolean) is still ignored, for
  // compatibility, but said once in the log: a typo must not pass unnoticed.
  void warn_ignored(std::string_view name, std::string_view value, std::string_view expected,
                    std::string_view used) const {
    note(fmt::format("Warning: ignoring {}={} ({}); using {}", name, go_quote(value), expected,
                     used));
  }
  void note(std::string line) const { warnings_->push_back(std::move(line)); }

private:
  std::vector<std::string>* warnings_;
  std::vector<std::string> valid_;
  std::map<std::string, std::size_t, std::less<>> last_index_;
};

// The value of the first of `names` that is set, and which name that was. Lists the preferred
// name first: `function_process` wins over `fprocess` even when it is empty, as in the original.
struct Found {
  std::string_view name;
  std::string_view value;
};
std::optional<Found> first_set(const Environment& env,
                               std::initializer_list<std::string_view> names) {
  for (std::string_view name : names)
    if (std::optional<std::string_view> value = env.get(name))
      return Found{name, *value};
  return std::nullopt;
}

using Check = std::optional<ConfigError>;

ConfigError error(std::string_view variable, std::string message, int exit_code = 1) {
  return ConfigError{std::string(variable), std::move(message), exit_code};
}

Check read_mode(const Environment& env, Config& c, const ModeRegistry& modes) {
  std::string_view value = env.get("mode").value_or("");
  if (value.empty())
    return std::nullopt; // an empty mode is the default, as in the original
  if (modes.find(value) != nullptr) {
    c.mode = std::string(value);
    return std::nullopt;
  }
  // The original panics here with exit status 2; we keep the status and say why in words.
  if (value == "afterburn")
    return error("mode",
                 "watchdog mode \"afterburn\" in variable mode is no longer supported (use http)",
                 2);
  std::string expected;
  for (const std::string& name : modes.names())
    expected += (expected.empty() ? "" : ", ") + name;
  return error("mode",
               fmt::format("unknown watchdog mode {} in variable mode (expected one of {})",
                           go_quote(value), expected),
               2);
}

// A port: 0 (any free port) to 65535. Unlike the original, which turns junk into port 0 and so
// binds a random port, a bad value stops start-up.
Check read_port(const Environment& env, std::string_view name, int& port) {
  std::optional<std::string_view> value = env.get(name);
  if (!value)
    return std::nullopt;
  std::optional<std::int64_t> n = config::parse_go_int(*value);
  if (!n)
    return error(name, fmt::format("invalid value {} for {}: not a base-10 integer",
                                   go_quote(*value), name));
  if (*n < 0 || *n > 65535)
    return error(name, fmt::format("invalid value {} for {}: a port must be from 0 to 65535",
                                   go_quote(*value), name));
  port = static_cast<int>(*n);
  return std::nullopt;
}

Check read_max_inflight(const Environment& env, Config& c) {
  std::optional<std::string_view> value = env.get("max_inflight");
  if (!value)
    return std::nullopt;
  std::optional<std::int64_t> n = config::parse_go_int(*value);
  if (!n || *n < 0 || *n > std::numeric_limits<int>::max())
    return error("max_inflight",
                 fmt::format("invalid value {} for max_inflight: expected a whole number, 0 or "
                             "more (0 means no limit)",
                             go_quote(*value)));
  c.max_inflight = static_cast<int>(*n);
  return std::nullopt;
}

Check read_max_body_size(const Environment& env, Config& c) {
  std::optional<std::string_view> value = env.get("max_body_size");
  if (!value)
    return std::nullopt;
  std::optional<std::int64_t> n = config::parse_go_int(*value);
  if (!n || *n < 0)
    return error(
        "max_body_size",
        fmt::format("invalid value {} for max_body_size: expected a whole number of bytes, "
                    "0 or more (0 means no limit)",
                    go_quote(*value)));
  c.max_body_size = static_cast<std::uint64_t>(*n);
  return std::nullopt;
}

Check read_ports_and_limits(const Environment& env, Config& c) {
  if (Check e = read_port(env, "port", c.port))
    return e;
  if (Check e = read_port(env, "metrics_port", c.metrics_port))
    return e;
  if (Check e = read_max_inflight(env, c))
    return e;
  if (Check e = read_max_body_size(env, c))
    return e;
  if (c.port != 0 && c.port == c.metrics_port)
    return error("metrics_port",
                 fmt::format("port and metrics_port are both {}: the metrics server needs a port "
                             "of its own",
                             c.port));
  return std::nullopt;
}

Check read_log_format(const Environment& env, Config& c) {
  std::string_view value = env.get("log_format").value_or("");
  if (value.empty() || value == "text")
    c.log_format = LogFormat::text;
  else if (value == "json")
    c.log_format = LogFormat::json;
  else
    return error("log_format", fmt::format("invalid value {} for log_format: expected text or json",
                                           go_quote(value)));
  return std::nullopt;
}

Check read_log_buffer_size(const Environment& env, Config& c) {
  std::optional<std::string_view> value = env.get("log_buffer_size");
  if (!value)
    return std::nullopt;
  config::IntResult n = config::parse_atoi(*value);
  if (n.error == config::IntError::none) {
    c.log_buffer_size = n.value;
    return std::nullopt;
  }
  // The original's exact words (Go's strconv error text), which tools may match.
  std::string_view why =
      n.error == config::IntError::syntax ? "invalid syntax" : "value out of range";
  return error("log_buffer_size",
               fmt::format("invalid log_buffer_size value: {}, error: strconv.Atoi: parsing {}: {}",
                           *value, go_quote(*value), why));
}

Duration duration_or(const Environment& env, std::string_view name, Duration fallback) {
  std::optional<std::string_view> value = env.get(name);
  if (!value || value->empty())
    return fallback;
  std::optional<Duration> parsed = parse_duration(*value);
  if (!parsed) {
    env.warn_ignored(name, *value, "not a duration such as 30s, 1m30s or a number of seconds",
                     go_duration(fallback));
    return fallback;
  }
  return *parsed;
}

Check read_timeouts(const Environment& env, Config& c) {
  c.read_timeout = duration_or(env, "read_timeout", c.read_timeout);
  c.write_timeout = duration_or(env, "write_timeout", c.write_timeout);
  c.exec_timeout = duration_or(env, "exec_timeout", c.exec_timeout);
  // The health interval defaults to the write timeout as parsed, not to a constant.
  c.healthcheck_interval = duration_or(env, "healthcheck_interval", c.write_timeout);
  if (c.write_timeout == Duration::zero())
    return error("write_timeout", "HTTP write timeout must be over 0s");
  return std::nullopt;
}

Check read_fprocess(const Environment& env, Config& c, const ModeDescriptor* mode) {
  std::optional<Found> found = first_set(env, {"function_process", "fprocess"});
  if (found)
    c.fprocess = std::string(found->value);
  if (!c.fprocess.empty()) {
    std::optional<std::vector<std::string>> argv = split_fprocess(c.fprocess);
    if (!argv)
      return error(found->name,
                   fmt::format("invalid value {} for {}: a value starting with '[' must be a "
                               "non-empty JSON array of strings",
                               go_quote(c.fprocess), found->name));
    c.fprocess_argv = std::move(*argv);
  } else if (mode == nullptr || mode->runs_fprocess) {
    return error(found ? found->name : "fprocess",
                 "provide a \"function_process\" or \"fprocess\" environmental variable for your "
                 "function");
  }
  return std::nullopt;
}

// The variables the built-in modes share with the original's Config; their checks belong to
// the modes (lib/modes/builtin_modes.cpp), which run them through ModeDescriptor::configure.
void read_mode_values(const Environment& env, Config& c) {
  if (std::optional<Found> upstream = first_set(env, {"http_upstream_url", "upstream_url"}))
    c.upstream_url = std::string(upstream->value);
  if (std::optional<std::string_view> path = env.get("static_path"))
    c.static_path = std::string(*path);
}

// A strict boolean: `true` or `1`. `false`, `0` and empty are plain false; anything else is
// false too, as in the original, with a warning.
bool strict_bool(const Environment& env, std::string_view name) {
  std::string_view value = env.get(name).value_or("");
  bool on = config::parse_strict_bool(value);
  if (!on && !value.empty() && value != "false" && value != "0")
    env.warn_ignored(name, value, "expected true or 1, or false or 0", "false");
  return on;
}

// `cgi_headers` (docs/cgi-headers.md) is this project's own, so a value that is not a boolean
// stops start-up rather than being read as false; and it stops start-up in a mode that could
// not honour it, instead of being silently ignored.
Check read_cgi_headers(const Environment& env, Config& c) {
  std::string_view value = env.get("cgi_headers").value_or("");
  if (value.empty())
    return std::nullopt;
  std::optional<bool> on = parse_go_bool(value);
  if (!on)
    return error("cgi_headers", fmt::format("invalid value {} for cgi_headers: expected true or "
                                            "false",
                                            go_quote(value)));
  if (*on && c.mode != "streaming" && c.mode != "serializing" && c.mode != "wasm")
    return error("cgi_headers", fmt::format("cgi_headers=true applies to the streaming, "
                                            "serializing and wasm modes, not mode={}",
                                            c.mode));
  c.cgi_headers = *on;
  return std::nullopt;
}

// `jwt_auth` (docs/jwt-auth.md): the function's name and namespace are needed before anything
// is served, since every token is checked against them; the provider is reached at start-up.
constexpr std::string_view kGatewayProvider = "http://gateway.openfaas:8080";
constexpr std::string_view kLocalProvider = "http://127.0.0.1:8000";
constexpr const char* kServiceAccountNamespace =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

Check read_function_authentication(const Environment& env, Config& c) {
  Config::FunctionAuthentication& auth = c.jwt_auth;
  auth.enabled = strict_bool(env, "jwt_auth");
  bool local = strict_bool(env, "jwt_auth_local");
  auth.debug = strict_bool(env, "jwt_auth_debug");
  std::string_view provider = env.get("jwt_auth_issuer_url").value_or("");
  if (!auth.enabled) {
    for (std::string_view name : {"jwt_auth_debug", "jwt_auth_local", "jwt_auth_issuer_url"}) {
      if (std::optional<std::string_view> value = env.get(name); value && !value->empty())
        env.note(
            fmt::format("Note: {}={} has no effect while jwt_auth is off", name, go_quote(*value)));
    }
    auth.debug = false;
    return std::nullopt;
  }
  auth.provider_url =
      std::string(provider.empty() ? (local ? kLocalProvider : kGatewayProvider) : provider);
  if (!auth.provider_url.starts_with("http://") || auth.provider_url.size() == 7)
    return error(
        "jwt_auth_issuer_url",
        fmt::format("invalid value {} for jwt_auth_issuer_url: expected http://host[:port]",
                    go_quote(auth.provider_url)));
  auth.function_name = std::string(env.get("OPENFAAS_NAME").value_or(""));
  if (auth.function_name.empty())
    return error("OPENFAAS_NAME", "jwt_auth=true needs the function's name in OPENFAAS_NAME");
  if (std::optional<std::string_view> ns = env.get("OPENFAAS_NAMESPACE"); ns && !ns->empty()) {
    auth.function_namespace = std::string(*ns);
  } else {
    std::ifstream file(kServiceAccountNamespace);
    std::getline(file, auth.function_namespace);
    while (!auth.function_namespace.empty() &&
           std::isspace(static_cast<unsigned char>(auth.function_namespace.back())))
      auth.function_namespace.pop_back();
    if (auth.function_namespace.empty())
      return error("OPENFAAS_NAMESPACE",
                   fmt::format("jwt_auth=true needs the function's namespace: OPENFAAS_NAMESPACE "
                               "is not set and {} cannot be read",
                               kServiceAccountNamespace));
  }
  return std::nullopt;
}

// Values that never stop start-up: a bad boolean is just false (or the default), with a warning.
void read_plain_values(const Environment& env, Config& c) {
  bool buffer = strict_bool(env, "http_buffer_req_body");
  c.http_buffer_req_body = strict_bool(env, "buffer_http") || buffer;
  c.suppress_lock = strict_bool(env, "suppress_lock");

  if (std::optional<std::string_view> v = env.get("prefix_logs")) {
    std::optional<bool> b = parse_go_bool(*v);
    if (!b)
      env.warn_ignored("prefix_logs", *v, "expected true or false", "true");
    c.prefix_logs = b.value_or(c.prefix_logs);
  }

  // The original reads `log_callid` while its README says `log_call_id`; we read both, and the
  // name the code used wins.
  if (std::optional<Found> v = first_set(env, {"log_callid", "log_call_id"})) {
    std::optional<bool> b = v->value == "1" ? std::optional<bool>(true) : parse_go_bool(v->value);
    if (!b && !v->value.empty())
      env.warn_ignored(v->name, v->value, "expected true or false", "false");
    c.log_callid = b.value_or(false);
  }

  if (std::optional<std::string_view> v = env.get("content_type"))
    c.content_type = std::string(*v);
  if (std::optional<std::string_view> v = env.get("ready_path"))
    c.ready_path = std::string(*v);
  if (std::optional<std::string_view> v = env.get("wasm_root"))
    c.wasm_root = std::string(*v);

  // Go's os.TempDir: $TMPDIR when non-empty, else /tmp. Trailing slashes are dropped so the
  // lock path reads as filepath.Join would write it.
  std::string tmpdir(env.get("TMPDIR").value_or(""));
  while (tmpdir.size() > 1 && tmpdir.back() == '/')
    tmpdir.pop_back();
  c.tmpdir = tmpdir.empty() ? "/tmp" : tmpdir;
}

} // namespace

ConfigResult load_config(const std::vector<std::string>& environment, const ModeRegistry& modes) {
  ConfigResult result{Config{}, {}};
  Environment env(environment, result.warnings);
  Config& c = result.config();

  // The order of the checks is part of the contract: the first failure is the one reported.
  Check failure = read_mode(env, c, modes);
  const ModeDescriptor* mode = modes.find(c.mode);
  for (auto step : {read_ports_and_limits, read_log_format, read_log_buffer_size, read_timeouts}) {
    if (!failure)
      failure = step(env, c);
  }
  if (!failure)
    failure = read_fprocess(env, c, mode);
  if (!failure)
    failure = read_function_authentication(env, c);
  if (!failure)
    failure = read_cgi_headers(env, c);
  if (!failure) {
    read_mode_values(env, c);
    if (mode != nullptr && mode->configure) {
      VariableLookup lookup = [&env](std::string_view name) { return env.get(name); };
      failure = mode->configure(lookup, c);
    }
  }
  if (failure) {
    result.value = std::move(*failure);
    return result;
  }
  read_plain_values(env, c);
  c.environment = env.entries();
  return result;
}

} // namespace ofwatchdog
