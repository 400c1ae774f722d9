// DeadlineExchange as the library's edge for a loop-thread handler: an exception thrown from a
// callback stops there, and max_body_size holds for a body that streams in.
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "../process/test_loop.hpp"
#include "fake_exchange.hpp"
#include "modes/deadline_exchange.hpp"

namespace {

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::TestLoop;

// A handler that throws from the callback named by `throw_in`, and records what it heard.
struct Thrower final : ExchangeHandler {
  enum class When { body, body_end, never };
  Thrower(std::shared_ptr<Exchange> exchange, When when)
      : exchange_(std::move(exchange)), when_(when) {}
  void on_body(std::string_view data) override {
    received += data;
    if (when_ == When::body)
      throw std::runtime_error("thrown from on_body");
  }
  void on_body_end() override {
    exchange_->send_head({200, {}, std::nullopt});
    exchange_->send_body("partial");
    if (when_ == When::body_end)
      throw std::runtime_error("thrown from on_body_end");
    exchange_->finish();
  }
  void on_cancel(CancelReason reason) override { cancelled = reason; }

  std::shared_ptr<Exchange> exchange_;
  When when_;
  std::string received;
  std::optional<CancelReason> cancelled;
};

struct Fixture {
  TestLoop loop;
  std::FILE* log_file = std::tmpfile();
  Logger log{LogFormat::text, false, log_file, log_file};
  std::shared_ptr<FakeExchange> fake =
      std::make_shared<FakeExchange>(loop.get(), make_request("POST", "/"));
  std::shared_ptr<modes::DeadlineExchange> wrapped =
      std::make_shared<modes::DeadlineExchange>(fake, Duration::zero(), log, false);

  ~Fixture() {
    wrapped.reset();
    fake->close();
    loop.run();
    std::fclose(log_file);
  }
  std::string logged() {
    std::fflush(log_file);
    std::rewind(log_file);
    std::string text;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, log_file))
      text.append(buffer, n);
    return text;
  }
};

} // namespace

TEST_CASE("an exception from on_body is a 500 with a fixed text, the message in the log") {
  Fixture f;
  f.fake->set_body("abcdef", 2);
  Thrower handler(f.wrapped, Thrower::When::body);
  f.wrapped->set_handler(&handler);
  f.loop.run();
  REQUIRE(f.fake->head);
  CHECK(f.fake->head->status == 500);
  CHECK(f.fake->body == "Internal Server Error: the function failed\n");
  CHECK(f.fake->finished);
  CHECK(handler.received == "ab"); // nothing more reached the handler that threw
  CHECK(f.logged().find("Handler failed: thrown from on_body") != std::string::npos);
}

TEST_CASE("an exception after the head cuts the response short") {
  Fixture f;
  f.fake->set_body("abc");
  Thrower handler(f.wrapped, Thrower::When::body_end);
  f.wrapped->set_handler(&handler);
  f.loop.run();
  REQUIRE(f.fake->head);
  CHECK(f.fake->head->status == 200);
  CHECK(f.fake->aborted);
  CHECK_FALSE(f.fake->finished);
}

TEST_CASE("a body that passes the limit as it streams is refused with 413") {
  Fixture f;
  f.fake->set_body("0123456789", 3);
  f.wrapped->set_body_limit(7);
  Thrower handler(f.wrapped, Thrower::When::never);
  f.wrapped->set_handler(&handler);
  f.loop.run();
  REQUIRE(f.fake->head);
  CHECK(f.fake->head->status == 413);
  CHECK(f.fake->body == "Request body too large: the limit is 7 bytes");
  CHECK(handler.received == "012345");
  REQUIRE(handler.cancelled);
  CHECK(*handler.cancelled == CancelReason::body_too_large);
}

TEST_CASE("a body of exactly the limit passes") {
  Fixture f;
  f.fake->set_body("0123456", 3);
  f.wrapped->set_body_limit(7);
  Thrower handler(f.wrapped, Thrower::When::never);
  f.wrapped->set_handler(&handler);
  f.loop.run();
  REQUIRE(f.fake->head);
  CHECK(f.fake->head->status == 200);
  CHECK(f.fake->finished);
  CHECK(handler.received == "0123456");
}
