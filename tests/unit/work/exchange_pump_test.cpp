// A worker and an Exchange joined by a pump and two channels, on a real loop and a real thread:
// a large echo in constant memory, the head before the body, failures, and cancellation of a
// worker blocked in either direction.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "../modes/fake_exchange.hpp"
#include "work_bench.hpp"

namespace {

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::TestLoop;
using ofwatchdog::testing::WorkBench;

// A client that sends `total` bytes of a fixed pattern in pieces (stopping while paused) and
// reads the response slowly: `send_body` says "stop" after every `window` bytes and
// `on_writable` follows on the next loop turn. The response is compared with the pattern as it
// arrives, so neither side is ever held in memory.
class PatternExchange : public Exchange {
public:
  static constexpr std::size_t kPeriod = (1 << 20) + 7; // not a multiple of any piece size

  PatternExchange(uv_loop_t* loop, std::uint64_t total, std::size_t piece, std::size_t window)
      : loop_(loop), request_(make_request("POST", "/")), total_(total), piece_(piece),
        window_(window), pattern_(kPeriod) {
    std::mt19937_64 random(42);
    for (auto& byte : pattern_)
      byte = static_cast<char>(random());
    uv_idle_init(loop_, &feeder_);
    feeder_.data = this;
    uv_idle_init(loop_, &reader_);
    reader_.data = this;
  }
  void close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&feeder_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&reader_), nullptr);
  }

  const Request& request() const override { return request_; }
  uv_loop_s* loop() const override { return loop_; }
  void set_handler(ExchangeHandler* handler) override {
    handler_ = handler;
    feed();
  }
  void pause_body() override {
    paused_ = true;
    ++pauses;
  }
  void resume_body() override {
    paused_ = false;
    feed();
  }
  void send_head(ResponseHead h) override { head_status = h.status; }
  bool send_body(std::string_view data) override {
    // Where the response differs from the pattern, the echo is wrong.
    while (!data.empty()) {
      std::size_t at = received % kPeriod;
      std::size_t n = std::min(data.size(), kPeriod - at);
      if (std::memcmp(data.data(), pattern_.data() + at, n) != 0)
        mismatch = true;
      received += n;
      unread_ += n;
      data.remove_prefix(n);
    }
    if (unread_ < window_)
      return true;
    ++stops;
    uv_idle_start(&reader_, &PatternExchange::read_cb);
    return false;
  }
  void finish() override { finished = true; }
  void abort() override { aborted = true; }
  bool head_sent() const override { return head_status != 0; }
  int status() const override { return head_status; }
  std::uint64_t body_bytes_sent() const override { return received; }
  bool done() const override { return finished || aborted; }

  std::uint64_t received = 0;
  bool mismatch = false;
  int head_status = 0;
  bool finished = false;
  bool aborted = false;
  int pauses = 0;
  int stops = 0;

private:
  void feed() {
    if (handler_ != nullptr && !paused_ && !ended_)
      uv_idle_start(&feeder_, &PatternExchange::feed_cb);
  }
  static void feed_cb(uv_idle_t* idle) {
    auto* self = static_cast<PatternExchange*>(idle->data);
    if (self->handler_ == nullptr || self->paused_ || self->ended_) {
      uv_idle_stop(idle);
      return;
    }
    if (self->sent_ == self->total_) {
      self->ended_ = true;
      uv_idle_stop(idle);
      self->handler_->on_body_end();
      return;
    }
    std::size_t at = self->sent_ % kPeriod;
    std::size_t n =
        std::min<std::uint64_t>({self->piece_, kPeriod - at, self->total_ - self->sent_});
    self->sent_ += n;
    self->handler_->on_body({self->pattern_.data() + at, n});
  }
  static void read_cb(uv_idle_t* idle) {
    auto* self = static_cast<PatternExchange*>(idle->data);
    uv_idle_stop(idle);
    self->unread_ = 0;
    if (self->handler_ != nullptr && !self->done())
      self->handler_->on_writable();
  }

  uv_loop_t* loop_;
  Request request_;
  ExchangeHandler* handler_ = nullptr;
  std::uint64_t total_;
  std::size_t piece_;
  std::size_t window_;
  std::vector<char> pattern_;
  uv_idle_t feeder_{};
  uv_idle_t reader_{};
  std::uint64_t sent_ = 0;
  std::size_t unread_ = 0;
  bool paused_ = false;
  bool ended_ = false;
};

// Echoes the body in the read size the worker chose.
void echo(WorkContext& work) {
  work.send_head({200, {{"Content-Type", "application/octet-stream"}}, std::nullopt});
  std::vector<char> buffer(48 * 1024);
  for (;;) {
    WorkRead got = work.read_body(buffer.data(), buffer.size());
    if (got.status != WorkStatus::ok)
      return;
    if (work.send_body({buffer.data(), got.size}) != WorkStatus::ok)
      return;
  }
}

// Turns the loop without blocking until `condition` holds: the condition may be a worker's
// state that no loop event announces (a blocked worker), so UV_RUN_ONCE could wait forever.
template <typename Condition> void wait_for(TestLoop& loop, Condition condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    uv_run(loop.get(), UV_RUN_NOWAIT);
    std::this_thread::yield();
  }
}

} // namespace

TEST_CASE("a worker echoes 256 MiB through the channels in constant memory", "[work][pump]") {
  constexpr std::uint64_t kTotal = 256ull << 20;
  constexpr std::size_t kPiece = 64 * 1024;
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<PatternExchange>(loop.get(), kTotal, kPiece, 128 * 1024);
  work::Watermarks marks; // 256 KiB high, 64 KiB low
  auto link = bench.start(exchange, echo, marks);

  loop.run_until([&] { return bench.outcome.has_value(); }, 120);

  CHECK(bench.outcome->kind == WorkOutcome::Kind::finished);
  CHECK(exchange->finished);
  CHECK(exchange->head_status == 200);
  CHECK(exchange->received == kTotal);
  CHECK_FALSE(exchange->mismatch);
  // Backpressure held both ways: the body was paused, and the slow client stopped the worker.
  CHECK(exchange->pauses > 0);
  CHECK(exchange->stops > 0);
  // The loop cannot refuse a piece, so the input may exceed the high mark by one piece; the
  // worker's writes never exceed it.
  CHECK(link->input.peak() <= marks.high + kPiece);
  CHECK(link->output.peak() <= marks.high);
  exchange->close();
  // Runs the close callbacks while the handles' memory (the exchange) still exists.
  uv_run(loop.get(), UV_RUN_NOWAIT);
}

TEST_CASE("the head a worker sets reaches the exchange before its body", "[work][pump]") {
  struct Recording : FakeExchange {
    using FakeExchange::FakeExchange;
    void send_head(ResponseHead h) override {
      events.push_back("head " + std::to_string(h.status));
      FakeExchange::send_head(std::move(h));
    }
    bool send_body(std::string_view data) override {
      events.push_back("body " + std::string(data));
      return FakeExchange::send_body(data);
    }
    void finish() override {
      events.push_back("finish");
      FakeExchange::finish();
    }
    std::vector<std::string> events;
  };
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<Recording>(loop.get(), make_request("GET", "/"));
  bench.start(exchange, [](WorkContext& work) {
    work.send_head({201, {{"X-Made-By", "worker"}}, 5});
    work.send_body("hello");
  });
  loop.run_until([&] { return bench.outcome.has_value(); });

  CHECK(bench.outcome->kind == WorkOutcome::Kind::finished);
  CHECK(bench.outcome->response_started);
  CHECK(exchange->events == std::vector<std::string>{"head 201", "body hello", "finish"});
  REQUIRE(exchange->response_header("X-Made-By") != nullptr);
  CHECK(*exchange->response_header("X-Made-By") == "worker");
  CHECK(bench.done_on == std::this_thread::get_id());
  exchange->close();
}

TEST_CASE("a worker's body without a head is sent with 200", "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
  bench.start(exchange, [](WorkContext& work) { work.send_body("plain"); });
  loop.run_until([&] { return bench.outcome.has_value(); });
  REQUIRE(exchange->head);
  CHECK(exchange->head->status == 200);
  CHECK(exchange->body == "plain");
  CHECK(exchange->finished);
  exchange->close();
}

TEST_CASE("a failure before any output leaves the exchange open for a 500", "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
  bool throws = GENERATE(false, true);
  // Catch's assertions are not thread-safe: the worker records, the test thread checks.
  bool cancelled_after_fail = false;
  WorkStatus late_write = WorkStatus::ok;
  bench.start(exchange, [&, throws](WorkContext& work) {
    if (throws)
      throw std::runtime_error("module trapped");
    work.fail("module trapped");
    cancelled_after_fail = work.cancelled();
    late_write = work.send_body("late");
  });
  loop.run_until([&] { return bench.outcome.has_value(); });

  CHECK(bench.outcome->kind == WorkOutcome::Kind::failed);
  CHECK(bench.outcome->error == "module trapped");
  CHECK_FALSE(bench.outcome->response_started);
  CHECK_FALSE(exchange->done());
  if (!throws) {
    CHECK(cancelled_after_fail);
    CHECK(late_write == WorkStatus::cancelled);
  }
  // What a mode does with it (and what the pool does when given no `done`).
  work::answer_unfinished(*exchange, *bench.outcome);
  REQUIRE(exchange->head);
  CHECK(exchange->head->status == 500);
  CHECK(exchange->body == "module trapped");
  CHECK(exchange->finished);
  exchange->close();
}

TEST_CASE("a failure after the head aborts the response", "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
  std::promise<void> head_out;
  std::future<void> head_seen = head_out.get_future();
  bench.start(exchange, [&](WorkContext& work) {
    work.send_head({200, {}, std::nullopt});
    work.send_body("part");
    // The failure must come after the response started, so wait until the loop sent it.
    head_seen.wait_for(std::chrono::seconds(10));
    work.fail("lost the thread");
  });
  wait_for(loop, [&] { return exchange->body == "part"; });
  head_out.set_value();
  loop.run_until([&] { return bench.outcome.has_value(); });
  CHECK(bench.outcome->kind == WorkOutcome::Kind::failed);
  CHECK(exchange->aborted);
  CHECK_FALSE(exchange->finished);
  exchange->close();
}

TEST_CASE("a failure after a committed head aborts it even before the loop sent it",
          "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
  std::promise<void> job_over;
  std::future<void> job_done = job_over.get_future();
  bench.start(exchange, [&](WorkContext& work) {
    work.send_head({200, {}, std::nullopt});
    work.send_body("part");
    work.fail("trapped at once");
    job_over.set_value();
  });
  // The loop has not run yet, so the head is still in the link when the job has failed: what
  // the client gets must not depend on that.
  REQUIRE(job_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  loop.run_until([&] { return bench.outcome.has_value(); });
  CHECK(bench.outcome->kind == WorkOutcome::Kind::failed);
  CHECK(bench.outcome->response_started);
  REQUIRE(exchange->head);
  CHECK(exchange->head->status == 200);
  CHECK(exchange->aborted);
  CHECK_FALSE(exchange->finished);
  exchange->close();
}

TEST_CASE("a worker blocked writing to a client that never reads is cancelled", "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
  // The client takes one piece, then never becomes writable within the test.
  exchange->set_slow_client(1, 3'600'000);
  std::atomic<int> returned_status{-1};
  auto link = bench.start(exchange, [&](WorkContext& work) {
    std::string chunk(32 * 1024, 'x');
    WorkStatus status;
    while ((status = work.send_body(chunk)) == WorkStatus::ok) {
    }
    returned_status = static_cast<int>(status);
  });
  wait_for(loop, [&] { return link->output.worker_blocked(); });
  // Blocked with the channel full: above the low mark (the pump may have taken one piece).
  CHECK(link->output.buffered() > work::Watermarks{}.low);

  auto cancelled_at = std::chrono::steady_clock::now();
  exchange->cancel(CancelReason::client_closed);
  loop.run_until([&] { return bench.outcome.has_value(); }, 5);
  CHECK(std::chrono::steady_clock::now() - cancelled_at < std::chrono::seconds(2));

  CHECK(returned_status == static_cast<int>(WorkStatus::cancelled));
  CHECK(bench.outcome->kind == WorkOutcome::Kind::cancelled);
  CHECK(bench.outcome->reason == CancelReason::client_closed);
  exchange->close();
}

TEST_CASE("a worker blocked reading a body that does not come is cancelled", "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("POST", "/"));
  exchange->hold_body_open();
  std::atomic<int> returned_status{-1};
  std::atomic<bool> interrupted{false};
  std::optional<CancelReason> reason;
  auto link = bench.start(exchange, [&](WorkContext& work) {
    work.on_cancel([&] { interrupted = true; });
    char buffer[1024];
    returned_status = static_cast<int>(work.read_body(buffer, sizeof buffer).status);
    reason = work.cancel_reason();
  });
  wait_for(loop, [&] { return link->input.worker_blocked(); });

  auto cancelled_at = std::chrono::steady_clock::now();
  exchange->cancel(CancelReason::read_timeout);
  loop.run_until([&] { return bench.outcome.has_value(); }, 5);
  CHECK(std::chrono::steady_clock::now() - cancelled_at < std::chrono::seconds(2));

  CHECK(returned_status == static_cast<int>(WorkStatus::cancelled));
  CHECK(interrupted);
  CHECK(reason == CancelReason::read_timeout);
  CHECK(bench.outcome->kind == WorkOutcome::Kind::cancelled);
  CHECK(bench.outcome->reason == CancelReason::read_timeout);
  exchange->close();
}

TEST_CASE("a job that stops reading early lets the rest of the body drain", "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("POST", "/"));
  exchange->set_body(std::string(2 << 20, 'b'));
  bench.start(exchange, [](WorkContext& work) {
    char buffer[10];
    WorkRead got = work.read_body(buffer, sizeof buffer);
    work.send_body(std::string_view(buffer, got.size));
  });
  loop.run_until([&] { return bench.outcome.has_value(); });
  CHECK(bench.outcome->kind == WorkOutcome::Kind::finished);
  CHECK(exchange->finished);
  CHECK(exchange->body == std::string(10, 'b'));
  exchange->close();
}

TEST_CASE("a head goes out before the worker writes any body", "[work][pump]") {
  TestLoop loop;
  WorkBench bench(loop);
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
  std::promise<void> body_allowed;
  std::future<void> allowed = body_allowed.get_future();
  bench.start(exchange, [&](WorkContext& work) {
    work.send_head({202, {}, std::nullopt});
    allowed.wait_for(std::chrono::seconds(10));
    work.send_body("later");
  });
  loop.run_until([&] { return exchange->head.has_value(); });
  CHECK(exchange->head->status == 202);
  CHECK(exchange->body.empty());
  body_allowed.set_value();
  loop.run_until([&] { return bench.outcome.has_value(); });
  CHECK(exchange->body == "later");
  CHECK(exchange->finished);
  exchange->close();
}
