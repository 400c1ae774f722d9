// The metrics port's handler.
#include "metrics/metrics_endpoint.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace ofwatchdog::metrics {

namespace {

constexpr std::string_view kMetricsPath = "/metrics";
// The Prometheus text exposition format, version 0.0.4, as the original announces it.
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
// The original's metrics server is a Go ServeMux, whose answer for an unknown path is this
// exact page; scrapers and probes have seen it for years, so we keep it byte for byte.
constexpr std::string_view kNotFoundBody = "404 page not found\n";

} // namespace

void serve_metrics(const std::shared_ptr<Exchange>& exchange, const FunctionMetrics& metrics,
                   const std::function<void(std::string&)>& append) {
  if (exchange->done()) {
    return;
  }
  if (exchange->request().path == kMetricsPath) {
    std::string text = metrics.render();
    if (append)
      append(text);
    send_whole_response(*exchange, 200, {{"Content-Type", std::string(kMetricsContentType)}}, text);
    return;
  }
  answer_not_found(*exchange);
}

void answer_not_found(Exchange& exchange) {
  send_whole_response(
      exchange, 404,
      {{"Content-Type", "text/plain; charset=utf-8"}, {"X-Content-Type-Options", "nosniff"}},
      kNotFoundBody);
}

} // namespace ofwatchdog::metrics
