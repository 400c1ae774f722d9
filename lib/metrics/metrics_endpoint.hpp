#pragma once
// The metrics port's only handler: `/metrics` with the registry's text, 404 for anything else.

#include <functional>
#include <memory>
#include <string>

#include "metrics/function_metrics.hpp"
#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::metrics {

// Answers a request that reached the metrics port, completely and at once. Any method is
// accepted on `/metrics`, as in the original. The request body is never read; the server
// discards it. The answer is not compressed even if the scraper accepts gzip.
// `append` adds series of the watchdog's mode to the text (ModeStrategy::append_metrics).
void serve_metrics(const std::shared_ptr<Exchange>& exchange, const FunctionMetrics& metrics,
                   const std::function<void(std::string&)>& append = {});
// The answer for a path the port does not serve: Go's ServeMux 404 page.
void answer_not_found(Exchange& exchange);

} // namespace ofwatchdog::metrics
