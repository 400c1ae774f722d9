// TEMPORARY: weak stand-ins for public functions that other branches implement (config, http).
// They let this branch link and test before those land; the real, strong definitions replace
// them at link time. Delete this file once main has them.
#include <algorithm>
#include <cctype>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog {

__attribute__((weak)) const std::string* find_header(const HeaderList& headers,
                                                     std::string_view name) {
  for (const Header& h : headers) {
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return &h.value;
  }
  return nullptr;
}

__attribute__((weak)) std::string_view cancel_reason_text(CancelReason reason) {
  switch (reason) {
  case CancelReason::client_closed: return "client closed";
  case CancelReason::read_timeout: return "read timeout";
  case CancelReason::write_timeout: return "write timeout";
  case CancelReason::shutdown: return "shutdown";
  }
  return "unknown";
}

// Only the simplest forms (`<n>ms`, `<n>s`); enough for the tests of this branch.
__attribute__((weak)) std::optional<Duration> parse_go_duration(std::string_view text) {
  auto number = [](std::string_view digits) -> std::optional<long long> {
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit))
      return std::nullopt;
    return std::stoll(std::string(digits));
  };
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    if (auto n = number(text.substr(0, text.size() - 2)))
      return std::chrono::milliseconds(*n);
    return std::nullopt;
  }
  if (text.size() > 1 && text.back() == 's') {
    if (auto n = number(text.substr(0, text.size() - 1)))
      return std::chrono::seconds(*n);
  }
  return std::nullopt;
}

} // namespace ofwatchdog
