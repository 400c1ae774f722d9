// read_function_settings: see function_settings.hpp.
#include "functions/function_settings.hpp"

#include <charconv>

#include <fmt/format.h>

#include "modes/wasm/wasm_settings.hpp"

namespace ofwatchdog::functions {

namespace {

// A whole decimal number in [low, high] from the variable `name`, its absence (nothing), or
// the error that names it.
std::variant<std::optional<std::uint64_t>, ConfigError> number_variable(const Config& config,
                                                                        std::string_view name,
                                                                        std::uint64_t low,
                                                                        std::uint64_t high) {
  std::optional<std::string_view> text = find_variable(config.environment, name);
  if (!text)
    return std::optional<std::uint64_t>();
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || error != std::errc() || end != text->data() + text->size() || value < low ||
      value > high)
    return ConfigError{std::string(name),
                       fmt::format("invalid value {} for {}: expected a whole number from {} to {}",
                                   *text, name, low, high),
                       1};
  return std::optional<std::uint64_t>(value);
}

} // namespace

std::variant<FunctionSettings, ConfigError> read_function_settings(const Config& config,
                                                                   const FunctionOptions& options) {
  FunctionSettings settings;
  auto threads = number_variable(config, "inproc_threads", 1, kMaxFunctionThreads);
  if (auto* error = std::get_if<ConfigError>(&threads))
    return *error;
  auto queue = number_variable(config, "inproc_queue", 0, kMaxFunctionQueue);
  if (auto* error = std::get_if<ConfigError>(&queue))
    return *error;

  if (options.threads != 0)
    settings.threads = std::min(options.threads, kMaxFunctionThreads);
  else if (auto n = std::get<std::optional<std::uint64_t>>(threads))
    settings.threads = static_cast<unsigned>(*n);
  else
    settings.threads = modes::usable_cpus();

  if (options.queue)
    settings.queue = std::min(*options.queue, kMaxFunctionQueue);
  else if (auto n = std::get<std::optional<std::uint64_t>>(queue))
    settings.queue = static_cast<std::size_t>(*n);
  else
    settings.queue = 4 * std::size_t{settings.threads};
  return settings;
}

} // namespace ofwatchdog::functions
