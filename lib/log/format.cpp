// Placeholder implementations; the exact formats are tested in tests/unit/log/.
#include "log/format.hpp"

#include <fmt/format.h>

namespace ofwatchdog {

std::string go_duration(Duration d) { return fmt::format("{}ns", d.count()); }
std::string human_size(std::int64_t bytes) { return fmt::format("{}B", bytes); }
std::string go_quote(std::string_view text) { return fmt::format("\"{}\"", text); }

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (c < 0x20)
        out += fmt::format("\\u{:04x}", c);
      else
        out.push_back(static_cast<char>(c));
    }
  }
  out += "\"";
  return out;
}

} // namespace ofwatchdog
