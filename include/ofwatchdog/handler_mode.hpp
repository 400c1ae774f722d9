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
#include <utility>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog {

using RequestHandler = std::function<void(std::shared_ptr<Exchange>)>;

// A ModeStrategy that hands each request to `handler`. Pass it to `Watchdog(config, mode)`.
OFWATCHDOG_API std::unique_ptr<ModeStrategy> make_handler_mode(RequestHandler handler);

// --- Handlers the request owns ---------------------------------------------------------------
// A request that is answered over several callbacks needs an ExchangeHandler that lives as long
// as the exchange. It need not delete itself: `serve_with<Handler>(exchange, args...)` makes
// `Handler(exchange2, args...)`, where `exchange2` is `exchange` seen through a thin wrapper
// (the one to keep and to use), and destroys the handler once the exchange has ended: its
// `finish` or `abort` was called, or it was cancelled. The destruction waits for the loop's next
// turn, so it never happens inside a call of the handler or of the exchange. The handler sets
// itself as the exchange's handler, as any other does.
//
//   class Echo final : public ofwatchdog::ExchangeHandler {
//    public:
//     explicit Echo(std::shared_ptr<Exchange> ex) : ex_(std::move(ex)) { ex_->set_handler(this); }
//     void on_body(std::string_view data) override { body_ += data; }
//     void on_body_end() override { send_whole_response(*ex_, 200, {}, body_); } // ends it
//     void on_cancel(CancelReason) override {}                                    // ends it
//    private:
//     std::shared_ptr<Exchange> ex_;
//     std::string body_;
//   };
//   ofwatchdog::make_handler_mode([](auto exchange) { serve_with<Echo>(std::move(exchange)); });
//
// A handler that must outlive its exchange (its own timers or threads still running) is better
// a RequestJob (request_job.hpp), which says when it is over itself.
using HandlerFactory = std::function<std::unique_ptr<ExchangeHandler>(std::shared_ptr<Exchange>)>;
OFWATCHDOG_API void serve_with_handler(std::shared_ptr<Exchange> exchange,
                                       const HandlerFactory& make);

template <typename Handler, typename... Args>
void serve_with(std::shared_ptr<Exchange> exchange, Args&&... args) {
  serve_with_handler(std::move(exchange),
                     [&](std::shared_ptr<Exchange> owned) -> std::unique_ptr<ExchangeHandler> {
                       return std::make_unique<Handler>(std::move(owned),
                                                        std::forward<Args>(args)...);
                     });
}

} // namespace ofwatchdog
