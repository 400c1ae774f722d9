#pragma once
// Text formats the original's log lines use, reproduced exactly.

#include <cstdint>
#include <string>
#include <string_view>

#include "ofwatchdog/duration.hpp"

namespace ofwatchdog {

// Go's time.Duration.String(): "0s", "500ms", "1.5µs", "1m30s", "1h0m0s", "-3s".
std::string go_duration(Duration d);

// Decimal SI size with up to 4 significant digits: "0B", "1.234kB", "12.35MB", "-1B".
std::string human_size(std::int64_t bytes);

// Go's %q: a double-quoted string with Go escapes.
std::string go_quote(std::string_view text);

// A JSON string literal (with quotes).
std::string json_quote(std::string_view text);

} // namespace ofwatchdog
