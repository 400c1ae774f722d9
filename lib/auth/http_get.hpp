#pragma once
// A blocking HTTP/1.1 GET of a small JSON document: the OpenID configuration and the key set
// of function authentication. It runs where blocking is allowed, before the watchdog serves
// (start-up) and on a worker thread (a key set refresh), never on the loop while it serves.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace ofwatchdog::auth {

struct HttpGetResult {
  std::string body;  // the whole body of a 200
  std::string error; // empty on success; else what failed, for a log line
  bool ok() const { return error.empty(); }
};

// GETs `url` (`http://host[:port][/path]`; no TLS, no redirects) with `User-Agent:
// openfaas-watchdog`, within `timeout` from the first name lookup to the last byte. A status
// other than 200 or a body longer than `max_body` is an error.
HttpGetResult http_get(std::string_view url, std::chrono::milliseconds timeout,
                       std::size_t max_body);

} // namespace ofwatchdog::auth
