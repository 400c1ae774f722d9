#pragma once
// The `Date` header value (RFC 1123 in GMT, as HTTP requires), cached per second.

#include <ctime>
#include <string>
#include <string_view>

namespace ofwatchdog::http {

// Formats `when` as e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
std::string format_http_date(std::time_t when);

// Formatting a date for every response is wasted work under load, and the value only changes
// once a second, so the server keeps the last one and reformats only when the second changes.
class HttpDateCache {
public:
  std::string_view now();

private:
  std::time_t cached_second_ = -1;
  std::string cached_;
};

} // namespace ofwatchdog::http
