#include "lifecycle/probe_endpoints.hpp"

#include <fmt/format.h>

#include "lifecycle/ready_path_exchange.hpp"

namespace ofwatchdog::lifecycle {

void answer_health(Exchange& exchange, bool healthy) {
  // HEAD is refused too: the original's check is for GET only.
  if (exchange.request().method != "GET")
    send_whole_response(exchange, 405, {}, {});
  else if (!healthy)
    send_whole_response(exchange, 503, {}, {});
  else
    send_whole_response(exchange, 200, {{"Content-Type", "text/plain; charset=utf-8"}}, "OK");
}

bool answer_ready_locally(Exchange& exchange, bool healthy, bool limit_reached,
                          bool has_ready_path) {
  if (exchange.request().method != "GET")
    send_whole_response(exchange, 405, {}, {});
  else if (!healthy)
    send_whole_response(exchange, 503, {}, {});
  else if (limit_reached)
    send_whole_response(exchange, 429, {}, {});
  else if (has_ready_path)
    return false;
  else
    send_whole_response(exchange, 200, {}, {});
  return true;
}

void delegate_ready(std::shared_ptr<Exchange> probe, const std::string& ready_path,
                    ModeStrategy& mode) {
  mode.handle(std::make_shared<ReadyPathExchange>(std::move(probe), ready_path));
}

void answer_limit_exceeded(Exchange& exchange, int limit) {
  send_whole_response(
      exchange, 429, {{"Content-Type", "text/plain"}, {"X-OpenFaaS-Internal", "faas-middleware"}},
      fmt::format("Concurrent request limit exceeded. Max concurrent requests: {}\n", limit));
}

} // namespace ofwatchdog::lifecycle
