#pragma once
// Answers a request on the metrics port: `/metrics` in Prometheus text format, 404 otherwise.

#include <memory>

#include "metrics/function_metrics.hpp"
#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::metrics {

void serve_metrics(const std::shared_ptr<Exchange>& exchange, const FunctionMetrics& metrics);

} // namespace ofwatchdog::metrics
