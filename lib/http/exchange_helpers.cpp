// The free functions declared beside the Exchange interface.

#include <cstddef>

#include "ofwatchdog/exchange.hpp"

#include "util/strings.hpp"

namespace ofwatchdog {

const std::string* find_header(const HeaderList& headers, std::string_view name) {
  for (const Header& header : headers) {
    if (iequals(header.name, name)) {
      return &header.value;
    }
  }
  return nullptr;
}

std::string_view cancel_reason_text(CancelReason reason) {
  switch (reason) {
  case CancelReason::client_closed:
    return "client closed the connection";
  case CancelReason::bad_request:
    return "malformed request body";
  case CancelReason::read_timeout:
    return "read timeout";
  case CancelReason::write_timeout:
    return "write timeout";
  case CancelReason::shutdown:
    return "shutdown";
  case CancelReason::exec_timeout:
    return "exec timeout";
  case CancelReason::body_too_large:
    return "request body too large";
  }
  return "unknown";
}

} // namespace ofwatchdog
