// The function rows of bench/run: the same whole-body echo served three ways on libofwatchdog,
// chosen by BENCH_WAY: `loop` (make_handler_mode, a callback on the loop thread, the expert
// layer and the reference), `coroutine` (make_coroutine_mode, on the loop) or `function`
// (make_function_mode, on worker threads). The C ABI's echo is echo.c.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <ofwatchdog/coroutine.hpp>
#include <ofwatchdog/function.hpp>
#include <ofwatchdog/handler_mode.hpp>
#include <ofwatchdog/watchdog.hpp>

using namespace ofwatchdog;

namespace {

// Collects the body on the loop and answers it whole; serve_with destroys it once the exchange
// is over.
class LoopEcho final : public ExchangeHandler {
public:
  explicit LoopEcho(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {
    exchange_->set_handler(this);
  }
  void on_body(std::string_view data) override { body_ += data; }
  void on_body_end() override {
    send_whole_response(*exchange_, 200, {{"Content-Type", "application/octet-stream"}}, body_);
  }
  void on_cancel(CancelReason) override {}

private:
  std::shared_ptr<Exchange> exchange_;
  std::string body_;
};

Task coroutine_echo(LoopCall& call) {
  std::string body;
  for (;;) {
    BodyPiece piece = co_await call.read();
    if (piece.status == BodyPiece::Status::cancelled)
      co_return;
    if (piece.status == BodyPiece::Status::end)
      break;
    body += piece.data;
  }
  call.send_head(200, {{"Content-Type", "application/octet-stream"}}, body.size());
  co_await call.write(body);
}

} // namespace

int main() {
  const char* way = std::getenv("BENCH_WAY");
  std::unique_ptr<ModeStrategy> mode;
  if (way != nullptr && std::string(way) == "coroutine") {
    mode = make_coroutine_mode(coroutine_echo);
  } else if (way != nullptr && std::string(way) == "loop") {
    mode = make_handler_mode(
        [](std::shared_ptr<Exchange> exchange) { serve_with<LoopEcho>(std::move(exchange)); });
  } else {
    mode = make_function_mode([](const FunctionRequest& request, CallContext&) {
      return FunctionResponse{200, {{"Content-Type", "application/octet-stream"}}, request.body};
    });
  }
  return serve_function(std::move(mode));
}
