#pragma once
// How many workers call a function and how many requests may wait for one: the options an
// embedding program gave, else the variables `inproc_threads` and `inproc_queue`
// (docs/config.md), else the CPUs the process may use and 4 waiting per thread.

#include <cstddef>
#include <variant>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/function.hpp"

namespace ofwatchdog::functions {

struct FunctionSettings {
  unsigned threads = 1;
  std::size_t queue = 4;
};

inline constexpr unsigned kMaxFunctionThreads = 4096;
inline constexpr std::size_t kMaxFunctionQueue = std::size_t{1} << 20;

std::variant<FunctionSettings, ConfigError> read_function_settings(const Config& config,
                                                                   const FunctionOptions& options);

} // namespace ofwatchdog::functions
