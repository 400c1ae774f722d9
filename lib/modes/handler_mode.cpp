// The ModeStrategy behind make_handler_mode: each request is wrapped in a DeadlineExchange and
// given to the embedding program's callable.
#include "ofwatchdog/handler_mode.hpp"

#include <exception>

#include <fmt/format.h>

#include "modes/body_limit.hpp"
#include "modes/deadline_exchange.hpp"
#include "modes/exec_timeout.hpp"

namespace ofwatchdog {

namespace {

class HandlerMode final : public ModeStrategy {
public:
  explicit HandlerMode(RequestHandler handler) : handler_(std::move(handler)) {}

  void handle(std::shared_ptr<Exchange> exchange) override {
    const Config& config = *context_.config;
    Duration timeout =
        modes::effective_exec_timeout(config.exec_timeout, exchange->request().header("X-Timeout"));
    auto wrapped = std::make_shared<modes::DeadlineExchange>(std::move(exchange), timeout,
                                                             *context_.log, config.log_callid);
    // max_body_size, as every function mode applies it: a declared length over it never
    // reaches the handler; a streamed body that passes it is refused as it arrives.
    const Request& request = wrapped->request();
    if (request.content_length && modes::over_body_limit(config, *request.content_length)) {
      std::string text = modes::body_too_large_text(config);
      context_.log->info(text);
      modes::send_refusal(*wrapped, 413, text);
      return;
    }
    wrapped->set_body_limit(config.max_body_size);
    // A throwing handler must not take the watchdog down (nor keep its max_inflight slot):
    // the request is answered 500, or cut short if the handler had begun answering.
    try {
      handler_(wrapped);
    } catch (const std::exception& e) {
      fail(*wrapped, e.what());
    } catch (...) {
      fail(*wrapped, "unknown exception");
    }
  }

private:
  void fail(Exchange& exchange, std::string_view what) {
    context_.log->info(fmt::format("Handler failed: {}", what));
    if (exchange.done())
      return;
    if (exchange.head_sent()) {
      exchange.abort();
      return;
    }
    // The message is for the log: a client learns nothing of the program's insides.
    send_whole_response(exchange, 500, {{"Content-Type", "text/plain; charset=utf-8"}},
                        "Internal Server Error: the function failed\n");
  }

  RequestHandler handler_;
};

} // namespace

std::unique_ptr<ModeStrategy> make_handler_mode(RequestHandler handler) {
  return std::make_unique<HandlerMode>(std::move(handler));
}

} // namespace ofwatchdog
