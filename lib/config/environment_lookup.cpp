// find_variable (config.hpp): one variable of an environ-shaped list, by the rule the whole
// configuration follows (the last occurrence wins).
#include "ofwatchdog/config.hpp"

namespace ofwatchdog {

std::optional<std::string_view> find_variable(const std::vector<std::string>& environment,
                                              std::string_view name) {
  std::optional<std::string_view> found;
  for (std::string_view entry : environment)
    if (entry.size() > name.size() && entry[name.size()] == '=' &&
        entry.substr(0, name.size()) == name)
      found = entry.substr(name.size() + 1);
  return found;
}

} // namespace ofwatchdog
