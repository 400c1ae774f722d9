#pragma once
// The Prometheus registry behind `/metrics` on the metrics port: the function route's
// `http_requests_total`, `http_request_duration_seconds` and `http_requests_in_flight`, plus
// the `process_*` series of this process.

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace ofwatchdog::metrics {

class FunctionMetrics {
public:
  FunctionMetrics();
  ~FunctionMetrics();

  // A function-route request began (the in-flight gauge goes up).
  void request_started();
  // It ended with this status after `seconds` (gauge down, counter and histogram observed).
  // `method` is the request method as sent; it is recorded lower-cased, or as "unknown".
  // A status of 0 (no head was ever sent) is recorded as 200, as the original does for a
  // handler that never wrote a header.
  void request_finished(std::string_view method, int status, double seconds);

  // jwt_auth is on: `jwt_auth_denials_total` is exported from now on, at 0 until a denial.
  void enable_auth_denials();
  // A function request was refused by jwt_auth for `reason` (a fixed word, never the client's).
  void auth_denied(std::string_view reason);

  // The in-flight gauge's current value.
  long in_flight() const;

  // The whole registry in Prometheus text exposition format (version 0.0.4).
  std::string render() const;

  FunctionMetrics(const FunctionMetrics&) = delete;
  FunctionMetrics& operator=(const FunctionMetrics&) = delete;

private:
  struct State;
  std::unique_ptr<State> state_;
};

// The `method` label for a request method: the lower-cased name for the ten methods the
// original knows (GET PUT HEAD POST DELETE CONNECT OPTIONS NOTIFY TRACE PATCH, spelled all upper
// or all lower case), "unknown" for anything else, so a client cannot create unbounded series.
std::string_view method_label(std::string_view method);

} // namespace ofwatchdog::metrics
