#pragma once
// The answers of `/_/health` and `/_/ready` and the limiter's 429 (docs/lifecycle.md).

#include <memory>
#include <string>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::lifecycle {

// 405 unless GET; 503 unless healthy; else 200 "OK".
void answer_health(Exchange& exchange, bool healthy);

// Answers `/_/ready` when the answer does not need the function: 405, 503, 429 (limit reached)
// or 200 (no ready_path). Returns false when the request must be delegated to the function.
bool answer_ready_locally(Exchange& exchange, bool healthy, bool limit_reached,
                          bool has_ready_path);

// Hands the mode a synthetic GET of `ready_path` whose response is the probe's response.
void delegate_ready(std::shared_ptr<Exchange> probe, const std::string& ready_path,
                    ModeStrategy& mode);

// The limiter's 429 with the original's text and `X-OpenFaaS-Internal: faas-middleware`.
void answer_limit_exceeded(Exchange& exchange, int limit);

} // namespace ofwatchdog::lifecycle
