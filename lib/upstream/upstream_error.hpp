#pragma once
// The causes printed after `Upstream HTTP request error: <Method> "<url>": ` (docs/http-mode.md).
// Where the original's client had a well-known wording (`dial tcp …: connect: connection
// refused`, `EOF`, `context deadline exceeded`) it is kept, because people search logs for it.

#include <string>
#include <string_view>

namespace ofwatchdog::upstream {

// A failed connect to `host_port`: `dial tcp 127.0.0.1:5000: connect: connection refused`.
std::string dial_error_text(std::string_view host_port, int uv_error);
// A failed name lookup: `dial tcp: lookup <host>: <reason>`.
std::string lookup_error_text(std::string_view host, int uv_error);
// A failed read or write on an open connection: `read: connection reset by peer`.
std::string io_error_text(std::string_view op, int uv_error);

// The method as the original's log line prints it: `Get`, `Post`, `Options`.
std::string title_case_method(std::string_view method);

inline constexpr std::string_view kEofText = "EOF";
inline constexpr std::string_view kDeadlineText = "context deadline exceeded";

} // namespace ofwatchdog::upstream
