// The ModeStrategy behind make_handler_mode: each request is wrapped in a DeadlineExchange and
// given to the embedding program's callable.
#include "ofwatchdog/handler_mode.hpp"

#include <exception>

#include <fmt/format.h>

#include "modes/in_process_start.hpp"

namespace ofwatchdog {

namespace {

class HandlerMode final : public ModeStrategy {
public:
  explicit HandlerMode(RequestHandler handler) : handler_(std::move(handler)) {}

  void handle(std::shared_ptr<Exchange> exchange) override {
    // max_body_size, as every function mode applies it: a declared length over it never
    // reaches the handler; a streamed body that passes it is refused as it arrives.
    std::optional<modes::InProcessStart> started = modes::start_in_process(exchange, context_);
    if (!started)
      return;
    std::shared_ptr<modes::DeadlineExchange> wrapped = std::move(started->exchange);
    wrapped->set_body_limit(context_.config->max_body_size);
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
