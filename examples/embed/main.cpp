// A complete function runtime built on libofwatchdog: the function is C++ code in this file,
// and the watchdog around it gives it the HTTP server, /_/health, /_/ready, the lock file,
// metrics, max_inflight, exec_timeout and the graceful drain. It reads the same environment
// variables as of-watchdog (mode defaults to inproc here).
//
//   POST /upper   streams the body back in upper case, with backpressure both ways
//   GET  /slow    never answers: exec_timeout (or X-Timeout) turns it into a 504
//   anything else a short greeting

#include <cctype>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <ofwatchdog/config.hpp>
#include <ofwatchdog/handler_mode.hpp>
#include <ofwatchdog/watchdog.hpp>

extern char** environ;

namespace {

using ofwatchdog::CancelReason;
using ofwatchdog::Exchange;
using ofwatchdog::ExchangeHandler;

// Streams the request body back, upper-cased. One object per request, made by serve_with,
// which destroys it once the exchange is over (finished here, or cancelled).
class UpperCase final : public ExchangeHandler {
public:
  explicit UpperCase(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {
    // Reading first, so a client that sent `Expect: 100-continue` gets its 100 before the 200.
    exchange_->set_handler(this);
    exchange_->send_head({200, {{"Content-Type", "text/plain"}}, std::nullopt});
  }

  void on_body(std::string_view data) override {
    std::string upper(data);
    for (char& c : upper)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // The client reads slower than it sends: stop reading until the response queue drains.
    if (!exchange_->send_body(upper))
      exchange_->pause_body();
  }
  void on_writable() override { exchange_->resume_body(); }
  void on_body_end() override { exchange_->finish(); }
  void on_cancel(CancelReason) override {}

private:
  std::shared_ptr<Exchange> exchange_;
};

// Holds the request without answering, as a stuck function would, until it is cancelled.
class NeverAnswers final : public ExchangeHandler {
public:
  explicit NeverAnswers(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {
    exchange_->set_handler(this);
  }
  void on_body(std::string_view) override {}
  void on_body_end() override {}
  void on_cancel(CancelReason reason) override {
    std::fprintf(stderr, "slow request cancelled: %s\n",
                 std::string(ofwatchdog::cancel_reason_text(reason)).c_str());
  }

private:
  std::shared_ptr<Exchange> exchange_;
};

void handle(std::shared_ptr<Exchange> exchange) {
  const std::string& path = exchange->request().path;
  if (path == "/upper") {
    ofwatchdog::serve_with<UpperCase>(std::move(exchange));
  } else if (path == "/slow") {
    ofwatchdog::serve_with<NeverAnswers>(std::move(exchange));
  } else {
    std::string body = "Hello from an embedded ofwatchdog handler: " + exchange->request().method +
                       " " + path + "\n";
    exchange->send_head({200, {{"Content-Type", "text/plain"}}, body.size()});
    exchange->send_body(body);
    exchange->finish();
  }
}

} // namespace

int main() {
  std::vector<std::string> environment{"mode=inproc"}; // the process's own mode= wins
  for (char** e = environ; *e != nullptr; ++e)
    environment.emplace_back(*e);
  ofwatchdog::ConfigResult loaded = ofwatchdog::load_config(environment);
  if (!loaded.ok()) {
    std::fprintf(stderr, "Error loading config: %s\n", loaded.error().message.c_str());
    return loaded.error().exit_code;
  }
  ofwatchdog::Watchdog watchdog(loaded.config(), ofwatchdog::make_handler_mode(handle));
  return watchdog.run();
}
