#include "auth/bounded_json.hpp"

#include <set>
#include <string>
#include <vector>

namespace ofwatchdog::auth {

std::optional<nlohmann::json> parse_bounded_json(std::string_view text, int max_depth) {
  // nlohmann's parser does not recurse, so the callback sees every event of a deep document
  // without costing stack; it marks the document refused and drops what it would have built.
  bool refused = false;
  std::vector<std::set<std::string>> names; // the member names of each open object
  auto check = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (refused)
      return false;
    if (depth > max_depth) {
      refused = true;
      return false;
    }
    switch (event) {
    case Event::object_start:
      names.emplace_back();
      break;
    case Event::object_end:
      if (!names.empty())
        names.pop_back();
      break;
    case Event::key:
      if (!names.empty() && !names.back().insert(parsed.get<std::string>()).second) {
        refused = true;
        return false;
      }
      break;
    default:
      break;
    }
    return true;
  };
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), check,
                                               /*allow_exceptions=*/false);
  if (refused || value.is_discarded())
    return std::nullopt;
  return value;
}

} // namespace ofwatchdog::auth
