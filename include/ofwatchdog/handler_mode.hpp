#pragma once
// In-process handlers: serve the function from C++ code linked into the program, with the
// watchdog's HTTP server, health, readiness, lock file, metrics, max_inflight, timeouts and
// graceful drain around it.
//
//   #include <ofwatchdog/handler_mode.hpp>
//   #include <ofwatchdog/watchdog.hpp>
//
//   int main() {
//     auto loaded = ofwatchdog::load_config({"mode=inproc", "port=8080"});
//     ofwatchdog::Watchdog watchdog(loaded.config(),
//         ofwatchdog::make_handler_mode([](std::shared_ptr<ofwatchdog::Exchange> ex) {
//           ex->send_head({200, {{"Content-Type", "text/plain"}}, 6});
//           ex->send_body("hello\n");
//           ex->finish();
//         }));
//     return watchdog.run();
//   }
//
// The handler is called on the loop thread for every function request. It may answer at once
// (as above) or later: it keeps the `shared_ptr` as long as it needs it, reads the body through
// `Exchange::set_handler`, and writes with backpressure (see exchange.hpp). It must not block.
//
// What the watchdog adds around the handler:
// * `exec_timeout`, shortened by a request's `X-Timeout`: when it passes, the handler's
//   `ExchangeHandler::on_cancel(CancelReason::exec_timeout)` runs, and the client gets a 504
//   (`X-OpenFaaS-Internal: of-watchdog`) if nothing was sent yet, or an aborted response.
// * the access line `<METHOD> <URI> - <status> - ContentLength: <bytes> (<secs>s)`, with the
//   call id when `log_callid` is set, except for kube-probe requests.

#include <functional>
#include <memory>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog {

using RequestHandler = std::function<void(std::shared_ptr<Exchange>)>;

// A ModeStrategy that hands each request to `handler`. Pass it to `Watchdog(config, mode)`.
OFWATCHDOG_API std::unique_ptr<ModeStrategy> make_handler_mode(RequestHandler handler);

} // namespace ofwatchdog
