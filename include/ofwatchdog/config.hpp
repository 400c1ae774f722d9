#pragma once
// The watchdog's whole configuration, and the function that builds it from an environment.
//
// Every field maps to one environment variable of the original of-watchdog (see docs/config.md
// for the table); `load_config` applies the original's parsing rules, fallbacks and validation
// order, with the corrections this project makes (a bad `port` is an error, not port 0).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ofwatchdog/duration.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/log_format.hpp"

namespace ofwatchdog {

struct OFWATCHDOG_API Config {
  // The name of the mode (`mode=`): an entry of the ModeRegistry the configuration was loaded
  // with (mode_registry.hpp). The original's names: streaming, serializing, http, static,
  // inproc, wasm.
  std::string mode = "streaming";

  // `fprocess` (or `function_process`) exactly as given; printed quoted at start-up.
  std::string fprocess;
  // The program and its arguments: split on single spaces, or read as a JSON array of strings
  // when the value starts with `[`.
  std::vector<std::string> fprocess_argv;

  int port = 8080;
  int metrics_port = 8081;

  Duration read_timeout = std::chrono::seconds(30);
  Duration write_timeout = std::chrono::seconds(30);
  Duration exec_timeout = std::chrono::seconds(30);
  Duration healthcheck_interval = std::chrono::seconds(30);

  std::string upstream_url;
  bool http_buffer_req_body = false;
  std::string content_type = "application/octet-stream";
  std::string static_path = "/home/app/public";
  bool suppress_lock = false;
  int max_inflight = 0;
  // `max_body_size`: the largest request body, in bytes, the function modes accept (413 above
  // it); 0 means no limit. An addition of this project, not a variable of the original.
  std::uint64_t max_body_size = 0;
  bool prefix_logs = true;
  // Largest relayed function-output line; a negative value means unlimited.
  std::int64_t log_buffer_size = 65536;
  std::string ready_path;
  bool log_callid = false;
  std::string wasm_root = "/wasm_root";
  LogFormat log_format = LogFormat::text;
  // `cgi_headers`: the streaming, serializing and wasm modes read a CGI response head (Status,
  // Location and other header lines, then an empty line) from the start of the function's
  // output (docs/cgi-headers.md). An addition of this project.
  bool cgi_headers = false;

  // `jwt_auth` and what tunes it (docs/jwt-auth.md): every function request must carry a token
  // of the gateway's OpenID provider that grants this function.
  struct FunctionAuthentication {
    bool enabled = false;           // jwt_auth
    bool debug = false;             // jwt_auth_debug: the issuer, keys and each token's claims
    std::string provider_url;       // jwt_auth_issuer_url, else the default jwt_auth_local picks
    std::string function_name;      // OPENFAAS_NAME
    std::string function_namespace; // OPENFAAS_NAMESPACE, else the service account's namespace
  } jwt_auth;

  // Directory of the lock file: `$TMPDIR`, or `/tmp` when that is empty or unset.
  std::string tmpdir = "/tmp";

  // The environment forked functions inherit ("NAME=value" entries, last occurrence wins).
  std::vector<std::string> environment;

  std::string lock_file_path() const { return tmpdir + "/.lock"; }
};

struct OFWATCHDOG_API ConfigError {
  std::string variable; // the variable at fault, empty when the error is not about one
  std::string message;  // the whole text printed after "Error loading config: "
  int exit_code = 1;
};

struct OFWATCHDOG_API ConfigResult {
  std::variant<Config, ConfigError> value;
  // Lines to log before anything else, e.g. "Bad environment: <entry>".
  std::vector<std::string> warnings;

  bool ok() const { return std::holds_alternative<Config>(value); }
  const Config& config() const { return std::get<Config>(value); }
  Config& config() { return std::get<Config>(value); }
  const ConfigError& error() const { return std::get<ConfigError>(value); }
};

// Builds a Config from "NAME=value" entries (the shape of `environ`), with the built-in modes
// (mode_registry.hpp has the form that takes an embedder's modes).
OFWATCHDOG_API ConfigResult load_config(const std::vector<std::string>& environment);

// The value of `name` in "NAME=value" entries (the shape of `environ`, or Config::environment)
// by the rule load_config applies: the last occurrence wins. Nothing when it is not set; set but
// empty is an empty string. For a mode's own variables and for tools that share the watchdog's.
OFWATCHDOG_API std::optional<std::string_view>
find_variable(const std::vector<std::string>& environment, std::string_view name);

// Parses a timeout value the way the original does: a non-negative integer is seconds,
// otherwise a Go duration string (`1m30s`, `-5s`, `300ms`, `1.5h`, `0`). Returns nothing when
// neither applies, so the caller can fall back.
OFWATCHDOG_API std::optional<Duration> parse_duration(std::string_view text);

// Parses only a Go duration string (no bare integers), as `X-Timeout` is read.
OFWATCHDOG_API std::optional<Duration> parse_go_duration(std::string_view text);

// Splits `fprocess` into argv: on single spaces, or as a JSON array when it starts with `[`.
// Returns nothing when a JSON array is malformed.
OFWATCHDOG_API std::optional<std::vector<std::string>> split_fprocess(std::string_view fprocess);

// Go's strconv.ParseBool, which the original uses for its boolean flags (`-version=false`) and
// some variables; nothing when the text is none of 1 t T TRUE true True 0 f F FALSE false False.
OFWATCHDOG_API std::optional<bool> parse_go_bool(std::string_view text);

} // namespace ofwatchdog
