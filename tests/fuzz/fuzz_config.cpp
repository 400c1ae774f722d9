// Fuzz target: `load_config` on an environment built from the input, and the duration and
// fprocess parsers on the raw input.
//
// The input is split into lines. A line that starts with a byte below 0x20 names a real
// variable by that byte and the rest of the line is its value, so that mutations reach the
// value parsers (which a random name almost never would); any other line is passed as it is,
// which covers entries without `=`, empty names and duplicates. The invariants are those
// config.hpp promises: no crash, and an error names the variable it is about, has a message,
// and exits with status 1 or 2.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ofwatchdog/config.hpp"

namespace {

// Every variable docs/config.md lists, plus the ignored ones of the classic watchdog.
constexpr std::string_view kVariableNames[] = {
    "mode",
    "fprocess",
    "function_process",
    "port",
    "metrics_port",
    "read_timeout",
    "write_timeout",
    "exec_timeout",
    "healthcheck_interval",
    "upstream_url",
    "http_upstream_url",
    "http_buffer_req_body",
    "buffer_http",
    "content_type",
    "static_path",
    "suppress_lock",
    "max_inflight",
    "max_body_size",
    "prefix_logs",
    "log_buffer_size",
    "log_format",
    "ready_path",
    "log_callid",
    "log_call_id",
    "wasm_root",
    "TMPDIR",
    "write_debug",
    "combined_output",
    "cgi_headers",
    "jwt_auth",
    "jwt_auth_debug",
    "jwt_auth_local",
    "jwt_auth_issuer_url",
    "OPENFAAS_NAME",
    "OPENFAAS_NAMESPACE",
};

bool is_variable_name(std::string_view name) {
  for (std::string_view known : kVariableNames) {
    if (known == name) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> environment_from(std::string_view input) {
  std::vector<std::string> environment;
  while (!input.empty()) {
    std::size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    auto first = static_cast<unsigned char>(line.empty() ? 0x20 : line.front());
    if (first < 0x20) {
      std::string_view name = kVariableNames[first % std::size(kVariableNames)];
      environment.push_back(std::string(name) + "=" + std::string(line.substr(1)));
    } else {
      environment.emplace_back(line);
    }
  }
  return environment;
}

void check_config(const std::vector<std::string>& environment) {
  ofwatchdog::ConfigResult result = ofwatchdog::load_config(environment);
  if (result.ok()) {
    const ofwatchdog::Config& config = result.config();
    if (config.port < 0 || config.port > 65535 || config.metrics_port < 0 ||
        config.metrics_port > 65535 || config.max_inflight < 0) {
      std::abort(); // a value outside its documented range was accepted
    }
    return;
  }
  const ofwatchdog::ConfigError& error = result.error();
  // Every rejection in docs/config.md is about one variable; the message names it too.
  if (!is_variable_name(error.variable) || error.message.empty() ||
      (error.exit_code != 1 && error.exit_code != 2)) {
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_config(environment_from(input));

  // A Go duration without a sign means the same with `+`, and its negation with `-`: the
  // sign handling and the overflow bound (2^63 ns only when negative) must agree.
  (void)ofwatchdog::parse_duration(input);
  std::optional<ofwatchdog::Duration> unsigned_value = ofwatchdog::parse_go_duration(input);
  if (unsigned_value && input.front() != '+' && input.front() != '-') {
    std::string text(input);
    std::optional<ofwatchdog::Duration> plus = ofwatchdog::parse_go_duration("+" + text);
    std::optional<ofwatchdog::Duration> minus = ofwatchdog::parse_go_duration("-" + text);
    if (plus != unsigned_value || !minus || *minus != -*unsigned_value) {
      std::abort();
    }
  }
  (void)ofwatchdog::split_fprocess(input);
  return 0;
}
