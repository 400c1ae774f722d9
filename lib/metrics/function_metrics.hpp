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
  void request_finished(std::string_view method, int status, double seconds);

  // The in-flight gauge's current value.
  long in_flight() const;

  // The whole registry in Prometheus text exposition format (version 0.0.4).
  std::string render() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace ofwatchdog::metrics
