// The free functions declared beside the Exchange interface.

#include <cstddef>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog {

namespace {
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}
} // namespace

const std::string* find_header(const HeaderList& headers, std::string_view name) {
  for (const Header& header : headers) {
    if (equals_ignore_case(header.name, name)) {
      return &header.value;
    }
  }
  return nullptr;
}

std::string_view cancel_reason_text(CancelReason reason) {
  switch (reason) {
  case CancelReason::client_closed: return "client closed the connection";
  case CancelReason::read_timeout: return "read timeout";
  case CancelReason::write_timeout: return "write timeout";
  case CancelReason::shutdown: return "shutdown";
  }
  return "unknown";
}

} // namespace ofwatchdog
