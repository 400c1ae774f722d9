#pragma once
// Helpers for reading a Prometheus text exposition in the metrics unit tests.

#include <optional>
#include <string>
#include <string_view>

namespace ofwatchdog::metrics::test {

// The value of the sample whose name-and-labels part is exactly `series`, e.g.
// `http_requests_total{code="200",method="get"}`; nothing when there is no such line.
inline std::optional<double> sample(std::string_view text, std::string_view series) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > series.size() && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      return std::stod(std::string(line.substr(series.size() + 1)));
    }
    pos = end + 1;
  }
  return std::nullopt;
}

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

} // namespace ofwatchdog::metrics::test
