#pragma once
// Picks the ModeStrategy for `Config::mode`.

#include <memory>
#include <string>
#include <variant>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::modes {

// The strategy for `config.mode`, or the reason this binary cannot serve it.
std::variant<std::unique_ptr<ModeStrategy>, std::string> make_mode(const Config& config);

} // namespace ofwatchdog::modes
