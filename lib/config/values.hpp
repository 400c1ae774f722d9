#pragma once
// The value parsers of the original's configuration: Go's strconv.Atoi, the strict booleans, and
// the upstream URL check. Pure functions, unit-tested in tests/unit/config/. Go's ParseBool is
// defined here too but declared in ofwatchdog/config.hpp, since the command line uses it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ofwatchdog::config {

enum class IntError { none, syntax, range };

struct IntResult {
  std::int64_t value = 0;
  IntError error = IntError::none;
};

// Go's strconv.Atoi: an optional sign and base-10 digits, within int64.
IntResult parse_atoi(std::string_view text);

// parse_atoi without the reason: nothing when the text is not an int64.
std::optional<std::int64_t> parse_go_int(std::string_view text);

// The strict booleans: exactly "true" or "1" is true, anything else false (case-sensitive).
bool parse_strict_bool(std::string_view text);

// Checks that `url` has the shape http://host[:port][/path]. Returns why it does not, or nothing
// when it does.
std::optional<std::string> upstream_url_problem(std::string_view url);

} // namespace ofwatchdog::config
