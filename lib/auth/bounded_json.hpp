#pragma once
// JSON from outside the process (a token's header and claims, a key set, an OpenID
// configuration) parsed with nlohmann-json after a check of its nesting: the documents the
// watchdog reads are at most three levels deep, and a bound keeps a hostile one from costing
// stack or time in the parser and in the value's destruction.

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ofwatchdog::auth {

// Deep enough for every document the watchdog reads, with room for members it ignores.
inline constexpr int kMaxJsonDepth = 16;

// The parsed value, or nothing when `text` is not JSON, nests deeper than `max_depth`, or holds
// a member name twice in one object (a token whose claims could be read two ways is refused).
std::optional<nlohmann::json> parse_bounded_json(std::string_view text,
                                                 int max_depth = kMaxJsonDepth);

} // namespace ofwatchdog::auth
