#pragma once
// The metrics port's only handler: `/metrics` with the registry's text, 404 for anything else.

#include <memory>

#include "metrics/function_metrics.hpp"
#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::metrics {

// Answers a request that reached the metrics port, completely and at once. Any method is
// accepted on `/metrics`, as in the original. The request body is never read; the server
// discards it. The answer is not compressed even if the scraper accepts gzip.
void serve_metrics(const std::shared_ptr<Exchange>& exchange, const FunctionMetrics& metrics);

} // namespace ofwatchdog::metrics
