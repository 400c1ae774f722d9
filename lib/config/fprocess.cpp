// Splitting `fprocess` into the program and its arguments.
//
// The original splits on single spaces and nothing else: no quoting, no shell, two spaces make
// an empty argument. We keep that, and add one form the original lacks: a value that starts
// with `[` is a JSON array of strings, so an argument may contain spaces.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ofwatchdog/config.hpp"
#include "util/json_scanner.hpp"

namespace ofwatchdog {

namespace {

// A strict reader for exactly one JSON value: an array of strings.
class JsonArgvReader {
public:
  explicit JsonArgvReader(std::string_view text) : json_(text) {}

  std::optional<std::vector<std::string>> read() {
    std::vector<std::string> argv;
    json_.skip_space();
    if (!json_.take('['))
      return std::nullopt;
    json_.skip_space();
    if (!json_.take(']')) {
      for (;;) {
        json_.skip_space();
        std::optional<std::string> item = json_.read_string();
        if (!item)
          return std::nullopt;
        argv.push_back(std::move(*item));
        json_.skip_space();
        if (json_.take(']'))
          break;
        if (!json_.take(','))
          return std::nullopt;
      }
    }
    json_.skip_space();
    if (!json_.at_end())
      return std::nullopt;
    return argv;
  }

private:
  JsonScanner json_;
};

} // namespace

std::optional<std::vector<std::string>> split_fprocess(std::string_view fprocess) {
  if (fprocess.empty())
    return std::vector<std::string>{};
  if (fprocess[0] == '[') {
    std::optional<std::vector<std::string>> argv = JsonArgvReader(fprocess).read();
    // An empty array names no program at all, which is as useless as a malformed one.
    if (!argv || argv->empty())
      return std::nullopt;
    return argv;
  }
  std::vector<std::string> argv;
  for (;;) {
    std::size_t space = fprocess.find(' ');
    argv.emplace_back(fprocess.substr(0, space));
    if (space == std::string_view::npos)
      break;
    fprocess.remove_prefix(space + 1);
  }
  return argv;
}

} // namespace ofwatchdog
