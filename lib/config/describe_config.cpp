// describe_config: a loaded configuration back as `name=value` lines, for `-print-config`. The
// names are the variables' own, so a line can be pasted into an environment as it is.
#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "log/format.hpp"
#include "ofwatchdog/mode_registry.hpp"

namespace ofwatchdog {

namespace {
std::string yes_no(bool value) {
  return value ? "true" : "false";
}
} // namespace

std::string describe_config(const Config& c, const ModeRegistry& modes) {
  std::vector<std::pair<std::string, std::string>> lines = {
      {"mode", c.mode},
      {"fprocess", c.fprocess},
      {"port", fmt::format("{}", c.port)},
      {"metrics_port", fmt::format("{}", c.metrics_port)},
      {"read_timeout", go_duration(c.read_timeout)},
      {"write_timeout", go_duration(c.write_timeout)},
      {"exec_timeout", go_duration(c.exec_timeout)},
      {"healthcheck_interval", go_duration(c.healthcheck_interval)},
      {"upstream_url", c.upstream_url},
      {"http_buffer_req_body", yes_no(c.http_buffer_req_body)},
      {"content_type", c.content_type},
      {"static_path", c.static_path},
      {"suppress_lock", yes_no(c.suppress_lock)},
      {"max_inflight", fmt::format("{}", c.max_inflight)},
      {"max_body_size", fmt::format("{}", c.max_body_size)},
      {"prefix_logs", yes_no(c.prefix_logs)},
      {"log_buffer_size", fmt::format("{}", c.log_buffer_size)},
      {"log_format", c.log_format == LogFormat::json ? "json" : "text"},
      {"log_callid", yes_no(c.log_callid)},
      {"ready_path", c.ready_path},
      {"wasm_root", c.wasm_root},
      {"cgi_headers", yes_no(c.cgi_headers)},
      {"jwt_auth", yes_no(c.jwt_auth.enabled)},
      {"TMPDIR", c.tmpdir},
  };
  if (c.jwt_auth.enabled) {
    lines.emplace_back("jwt_auth_debug", yes_no(c.jwt_auth.debug));
    lines.emplace_back("jwt_auth_issuer_url", c.jwt_auth.provider_url);
    lines.emplace_back("OPENFAAS_NAME", c.jwt_auth.function_name);
    lines.emplace_back("OPENFAAS_NAMESPACE", c.jwt_auth.function_namespace);
  }
  const ModeDescriptor* mode = modes.find(c.mode);
  if (mode != nullptr && mode->describe) {
    for (auto& line : mode->describe(c))
      lines.push_back(std::move(line));
  }
  std::string out;
  for (const auto& [name, value] : lines)
    out += fmt::format("{}={}\n", name, value);
  return out;
}

} // namespace ofwatchdog
