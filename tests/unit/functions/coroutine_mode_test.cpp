// make_coroutine_mode on a real loop with a fake exchange: the awaitables' backpressure, the
// cancellations, the failures, and a stop that waits for every frame.
#include <catch2/catch.hpp>

#include <cctype>
#include <coroutine>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../modes/fake_exchange.hpp"
#include "../process/test_loop.hpp"
#include "ofwatchdog/coroutine.hpp"
#include "ofwatchdog/log.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::read_all;
using ofwatchdog::testing::TestLoop;
using Status = BodyPiece::Status;

namespace {

// A coroutine mode on its own loop, logging to a temporary file.
struct Harness {
  explicit Harness(CoroutineHandler handler) : mode(make_coroutine_mode(std::move(handler))) {
    err = std::tmpfile();
    out = std::tmpfile();
    log = std::make_unique<Logger>(LogFormat::text, false, err, out);
    context.loop = loop.get();
    context.config = &config;
    context.log = log.get();
  }
  ~Harness() {
    std::fclose(err);
    std::fclose(out);
  }

  std::shared_ptr<FakeExchange> serve(Request request, std::string body = {}) {
    if (!started) {
      REQUIRE(mode->start(context) == 0);
      started = true;
    }
    auto ex = std::make_shared<FakeExchange>(loop.get(), std::move(request));
    ex->set_body(std::move(body), 4096);
    exchanges.push_back(ex);
    mode->handle(ex);
    return ex;
  }

  void stop() {
    bool stopped = false;
    mode->stop([&] { stopped = true; });
    loop.run_until([&] { return stopped; });
  }

  TestLoop loop;
  std::FILE* err;
  std::FILE* out;
  std::unique_ptr<Logger> log;
  Config config;
  ModeContext context;
  std::unique_ptr<ModeStrategy> mode;
  bool started = false;
  std::vector<std::shared_ptr<FakeExchange>> exchanges;
};

// Something else to await: it resumes only when the test opens it. (The awaiter is a
// temporary holding a pointer: g++ may copy an awaited lvalue.)
struct Gate {
  struct Awaiter {
    bool await_ready() { return false; }
    void await_suspend(std::coroutine_handle<> frame) { gate->waiting = frame; }
    void await_resume() {}
    Gate* gate;
  };
  Awaiter wait() { return Awaiter{this}; }
  void open() { std::exchange(waiting, {}).resume(); }
  std::coroutine_handle<> waiting;
};

// Sets `flag` when destroyed: a local of a coroutine tells when its frame is gone.
struct Witness {
  explicit Witness(bool& flag) : flag_(flag) {}
  ~Witness() { flag_ = true; }
  bool& flag_;
};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Request chunked_post(std::string target) {
  Request request = make_request("POST", std::move(target));
  request.chunked = true;
  return request;
}

} // namespace

TEST_CASE("a coroutine echoes the body with backpressure both ways") {
  Harness h([](LoopCall& call) -> Task {
    call.send_head(200, {{"Content-Type", "text/plain"}});
    for (;;) {
      BodyPiece piece = co_await call.read();
      if (piece.status != Status::data)
        co_return;
      if (!co_await call.write(upper(piece.data)))
        co_return;
    }
  });
  std::string body;
  for (int i = 0; i < 256 * 1024; ++i)
    body += static_cast<char>('a' + i % 26);
  auto ex = h.serve(chunked_post("/upper"), body);
  ex->set_slow_client(16 * 1024);
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  CHECK(ex->status() == 200);
  CHECK(ex->body == upper(body));
  CHECK(ex->stops > 0);  // the client was behind and the coroutine waited
  CHECK(ex->pauses > 0); // the body was held while the coroutine wrote
  h.stop();
}

TEST_CASE("returning without sending anything answers 200") {
  Harness h([](LoopCall&) -> Task { co_return; });
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  CHECK(ex->status() == 200);
  CHECK(ex->body.empty());
  h.stop();
}

TEST_CASE("an exception is a 500 with a fixed text, or a response cut short") {
  SECTION("before the head") {
    Harness h([](LoopCall&) -> Task {
      throw std::runtime_error("broken on purpose");
      co_return;
    });
    auto ex = h.serve(make_request("GET", "/"));
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->status() == 500);
    CHECK(ex->body == "Internal Server Error: the function failed\n");
    CHECK(contains(read_all(h.err), "Function failed: broken on purpose"));
    h.stop();
  }
  SECTION("after the head") {
    Harness h([](LoopCall& call) -> Task {
      co_await call.write("partial");
      throw std::runtime_error("broken on purpose");
    });
    auto ex = h.serve(make_request("GET", "/"));
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->aborted);
    CHECK(ex->body == "partial");
    h.stop();
  }
  SECTION("from the handler itself, before any coroutine") {
    Harness h([](LoopCall&) -> Task { throw std::runtime_error("no coroutine"); });
    auto ex = h.serve(make_request("GET", "/"));
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->status() == 500);
    CHECK(contains(read_all(h.err), "Function failed: no coroutine"));
    h.stop();
  }
}

TEST_CASE("cancellation resumes a waiting read, and every later await is cancelled") {
  std::vector<std::string> seen;
  bool frame_gone = false;
  Harness h([&](LoopCall& call) -> Task {
    Witness witness(frame_gone);
    BodyPiece first = co_await call.read();
    seen.push_back(std::string(first.data));
    BodyPiece second = co_await call.read(); // the client stops sending here
    seen.push_back(second.status == Status::cancelled ? "read cancelled" : "read");
    seen.push_back(co_await call.write("late") ? "written" : "write refused");
    CancelReason why = co_await call.cancellation();
    seen.push_back(std::string(cancel_reason_text(why)));
  });
  auto ex = h.serve(chunked_post("/"), "abc");
  ex->hold_body_open();
  h.loop.run_until([&] { return seen.size() == 1; });
  CHECK_FALSE(frame_gone);
  ex->cancel(CancelReason::client_closed);
  CHECK(frame_gone); // resumed at once, ran to its end, and destroyed
  CHECK(seen == std::vector<std::string>{"abc", "read cancelled", "write refused",
                                         "client closed the connection"});
  CHECK(ex->body.empty());
  h.stop();
}

TEST_CASE("the exec deadline cancels the coroutine and answers 504") {
  std::string reason;
  Harness h([&](LoopCall& call) -> Task {
    CHECK(call.time_left().has_value());
    reason = cancel_reason_text(co_await call.cancellation());
  });
  h.config.exec_timeout = std::chrono::milliseconds(20);
  auto ex = h.serve(make_request("GET", "/slow"));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->status() == 504);
  CHECK(reason == "exec timeout");
  h.stop();
}

TEST_CASE("max_body_size: 413 before the handler, or while the body is read") {
  SECTION("a declared Content-Length over it") {
    bool called = false;
    Harness h([&](LoopCall&) -> Task {
      called = true;
      co_return;
    });
    h.config.max_body_size = 100;
    Request request = make_request("POST", "/");
    request.content_length = 1000;
    auto ex = h.serve(std::move(request), std::string(1000, 'x'));
    CHECK(ex->status() == 413);
    CHECK_FALSE(called);
    h.stop();
  }
  SECTION("a chunked body that passes it") {
    std::optional<CancelReason> reason;
    Status last = Status::data;
    Harness h([&](LoopCall& call) -> Task {
      for (;;) {
        BodyPiece piece = co_await call.read();
        if (piece.status != Status::data) {
          last = piece.status;
          break;
        }
      }
      reason = call.cancel_reason();
    });
    h.config.max_body_size = 5000; // the second 4 KiB piece passes it
    auto ex = h.serve(chunked_post("/"), std::string(10000, 'x'));
    h.loop.run_until([&] { return ex->done() && reason.has_value(); });
    CHECK(ex->status() == 413);
    CHECK(last == Status::cancelled);
    CHECK(reason == CancelReason::body_too_large);
    h.stop();
  }
}

TEST_CASE("heads are checked, and a declared Content-Length holds") {
  std::vector<bool> results;
  Harness h([&](LoopCall& call) -> Task {
    results.push_back(call.send_head(200, {{"Content-Length", "3"}})); // the watchdog's
    results.push_back(call.send_head(700, {}));                        // no such status
    results.push_back(call.send_head(201, {{"X-Ok", "yes"}}, 4));
    results.push_back(call.send_head(202, {})); // already sent
    results.push_back(co_await call.write("abc"));
    results.push_back(co_await call.write("de")); // one too many
    results.push_back(co_await call.write("d"));
  });
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(results == std::vector<bool>{false, false, true, false, true, false, true});
  CHECK(ex->status() == 201);
  CHECK(ex->body == "abcd");
  CHECK(ex->finished);
  h.stop();
}

TEST_CASE("stop cancels a coroutine waiting on something else and waits for its frame") {
  Gate gate;
  std::optional<CancelReason> reason;
  bool wrote = true;
  Harness h([&](LoopCall& call) -> Task {
    co_await gate.wait();
    wrote = co_await call.write("too late");
    reason = call.cancel_reason();
  });
  auto ex = h.serve(make_request("GET", "/"));
  REQUIRE(static_cast<bool>(gate.waiting));
  bool stopped = false;
  h.mode->stop([&] { stopped = true; });
  CHECK_FALSE(stopped); // the frame is still suspended in the gate
  CHECK(ex->aborted);
  gate.open();
  CHECK(stopped);
  CHECK_FALSE(wrote);
  CHECK(reason == CancelReason::shutdown);
}

TEST_CASE("stop resumes coroutines waiting on the call, and calls done once") {
  int cancelled = 0;
  Harness h([&](LoopCall& call) -> Task {
    while ((co_await call.read()).status == Status::data) {
    }
    if (call.cancel_reason() == CancelReason::shutdown)
      ++cancelled;
  });
  auto first = h.serve(chunked_post("/"), "abc");
  auto second = h.serve(chunked_post("/"));
  first->hold_body_open();
  second->hold_body_open();
  h.loop.run_until([&] { return first->body_bytes_sent() == 0 && !first->done(); });
  int done = 0;
  h.mode->stop([&] { ++done; });
  CHECK(done == 1);
  CHECK(cancelled == 2);
  CHECK(first->aborted);
  CHECK(second->aborted);
}
