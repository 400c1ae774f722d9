#include "modes/wasm/wasm_settings.hpp"

#include <sched.h>
#include <unistd.h>

#include <charconv>

#include <fmt/format.h>

#include "util/strings.hpp"

namespace ofwatchdog::modes {

namespace {

ConfigError bad(std::string_view variable, std::string message) {
  return ConfigError{std::string(variable), std::move(message), 1};
}

// A whole decimal number in [low, high], or nothing.
std::optional<std::uint64_t> whole_number(std::string_view text, std::uint64_t low,
                                          std::uint64_t high) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < low ||
      value > high)
    return std::nullopt;
  return value;
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path.front() == '/')
    return path;
  char buffer[4096];
  if (getcwd(buffer, sizeof buffer) == nullptr)
    return path;
  return std::string(buffer) + "/" + path;
}

// A byte count: digits with an optional binary suffix (Ki, Mi, Gi).
std::optional<std::uint64_t> byte_count(std::string_view text) {
  std::uint64_t unit = 1;
  for (auto [suffix, factor] : {std::pair<std::string_view, std::uint64_t>{"Ki", 1u << 10},
                                {"Mi", 1u << 20},
                                {"Gi", 1u << 30}}) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      unit = factor;
      text.remove_suffix(suffix.size());
      break;
    }
  }
  std::optional<std::uint64_t> n = whole_number(text, 0, (std::uint64_t{1} << 40) / unit);
  if (!n)
    return std::nullopt;
  return *n * unit;
}

} // namespace

unsigned usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return static_cast<unsigned>(n);
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1u;
}

std::variant<WasmSettings, ConfigError> read_wasm_settings(const VariableLookup& variables,
                                                           const Config& config) {
  WasmSettings s;
  if (config.wasm_root.empty())
    return bad("wasm_root", "wasm_root must name a directory for mode=wasm");
  s.wasm_root = absolute(config.wasm_root);
  while (s.wasm_root.size() > 1 && s.wasm_root.back() == '/')
    s.wasm_root.pop_back();
  if (config.fprocess_argv.empty() || config.fprocess_argv.front().empty())
    return bad("fprocess", "Provide a \"fprocess\" or \"function_process\" environmental variable "
                           "for your function: the module to run, e.g. fprocess=\"echo.wasm\"");
  const std::string& first = config.fprocess_argv.front();
  std::size_t slash = first.rfind('/');
  s.module_name = slash == std::string::npos ? first : first.substr(slash + 1);
  s.module_path = slash == std::string::npos ? s.wasm_root + "/bin/" + first : absolute(first);
  s.args.assign(config.fprocess_argv.begin() + 1, config.fprocess_argv.end());
  s.data_dir = s.wasm_root + "/data/" + s.module_name;
  s.cache_dir = s.wasm_root + "/cache";
  if (auto v = variables("wasm_cache"); v && !v->empty())
    s.cache_dir = absolute(std::string(*v));

  if (auto v = variables("wasm_env"); v && !v->empty()) {
    std::string_view rest = *v;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view name = trim_ows(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty())
        continue;
      if (name.find('=') != std::string_view::npos)
        return bad("wasm_env", fmt::format("invalid name {} in wasm_env: a variable name cannot "
                                           "hold '='",
                                           name));
      if (auto value = variables(name))
        s.passed_environment.push_back(fmt::format("{}={}", name, *value));
    }
  }

  s.instances = usable_cpus();
  if (auto v = variables("wasm_instances"); v && !v->empty()) {
    auto n = whole_number(*v, 1, kMaxWasmInstances);
    if (!n)
      return bad("wasm_instances", fmt::format("invalid value {} for wasm_instances: expected a "
                                               "whole number from 1 to {}",
                                               *v, kMaxWasmInstances));
    s.instances = static_cast<unsigned>(*n);
  }
  s.queue = 4 * std::size_t{s.instances};
  if (auto v = variables("wasm_queue"); v && !v->empty()) {
    auto n = whole_number(*v, 0, 1u << 20);
    if (!n)
      return bad("wasm_queue", fmt::format("invalid value {} for wasm_queue: expected a whole "
                                           "number from 0 to {}",
                                           *v, 1u << 20));
    s.queue = static_cast<std::size_t>(*n);
  }
  if (auto v = variables("wasm_max_memory"); v && !v->empty()) {
    auto n = byte_count(*v);
    if (!n || *n < 65536 || *n > (std::uint64_t{4} << 30))
      return bad(
          "wasm_max_memory",
          fmt::format("invalid value {} for wasm_max_memory: expected bytes (a whole number, "
                      "or with Ki, Mi or Gi) from 64Ki to 4Gi",
                      *v));
    s.max_memory = *n;
  }
  if (auto v = variables("wasm_cuda_driver"); v && !v->empty())
    s.cuda_driver = std::string(*v);
  if (auto v = variables("wasm_gpu_memory"); v && !v->empty()) {
    auto n = byte_count(*v);
    if (!n || *n == 0 || *n > (std::uint64_t{4} << 30) - 1)
      return bad(
          "wasm_gpu_memory",
          fmt::format("invalid value {} for wasm_gpu_memory: expected bytes (a whole number, "
                      "or with Ki, Mi or Gi) from 1 to 4Gi - 1",
                      *v));
    s.gpu_memory = *n;
  }
  if (auto v = variables("scale_endpoints"); v && !v->empty()) {
    if (*v == "metrics")
      s.scale_endpoints = ScaleEndpoints::metrics_port;
    else if (*v == "main")
      s.scale_endpoints = ScaleEndpoints::main_port;
    else if (*v == "off")
      s.scale_endpoints = ScaleEndpoints::off;
    else
      return bad("scale_endpoints", fmt::format("invalid value {} for scale_endpoints: expected "
                                                "metrics, main or off",
                                                *v));
  }
  if (auto v = variables("write_debug"))
    s.write_debug = *v == "true";
  if (auto v = variables("wasm_engine"); v && !v->empty()) {
    if (*v == "auto")
      s.engine = WasmEngine::automatic;
    else if (*v == "aot")
      s.engine = WasmEngine::aot;
    else if (*v == "interpreter")
      s.engine = WasmEngine::interpreter;
    else
      return bad("wasm_engine", fmt::format("invalid value {} for wasm_engine: expected auto, aot "
                                            "or interpreter",
                                            *v));
  }
  return s;
}

std::variant<WasmSettings, ConfigError> read_wasm_settings(const Config& config) {
  auto lookup = [&config](std::string_view name) {
    return find_variable(config.environment, name);
  };
  return read_wasm_settings(lookup, config);
}

} // namespace ofwatchdog::modes

namespace ofwatchdog::modes {

std::vector<std::pair<std::string, std::string>> describe_wasm_settings(const Config& config) {
  std::variant<WasmSettings, ConfigError> read = read_wasm_settings(config);
  if (!std::holds_alternative<WasmSettings>(read))
    return {};
  const WasmSettings& s = std::get<WasmSettings>(read);
  std::string passed;
  for (const std::string& entry : s.passed_environment) {
    if (!passed.empty())
      passed.push_back(',');
    passed.append(entry, 0, entry.find('='));
  }
  auto engine = s.engine == WasmEngine::aot           ? "aot"
                : s.engine == WasmEngine::interpreter ? "interpreter"
                                                      : "auto";
  auto scale = s.scale_endpoints == ScaleEndpoints::main_port ? "main"
               : s.scale_endpoints == ScaleEndpoints::off     ? "off"
                                                              : "metrics";
  return {
      {"wasm_env", passed},
      {"wasm_instances", std::to_string(s.instances)},
      {"wasm_queue", std::to_string(s.queue)},
      {"wasm_max_memory", std::to_string(s.max_memory)},
      {"wasm_cache", s.cache_dir},
      {"wasm_engine", engine},
      {"scale_endpoints", scale},
      {"write_debug", s.write_debug ? "true" : "false"},
      {"wasm_cuda_driver", s.cuda_driver},
      {"wasm_gpu_memory", std::to_string(s.gpu_memory)},
  };
}

} // namespace ofwatchdog::modes
