#pragma once
// What every mode test needs: a real loop, a logger writing to temporary files, a
// configuration and the ModeContext over them; and, for a whole ModeStrategy, serving fake
// exchanges through it and stopping it so that the loop ends with nothing left open.

#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../process/test_loop.hpp"
#include "fake_exchange.hpp"
#include "ofwatchdog/config.hpp"
#include "ofwatchdog/log.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::testing {

// The loop and what a mode reads from its context. Own lines go to `err`, relayed function
// output to `out`.
struct ModeFixture {
  ModeFixture() {
    err = std::tmpfile();
    out = std::tmpfile();
    log = std::make_unique<Logger>(LogFormat::text, false, err, out);
    context.loop = loop.get();
    context.config = &config;
    context.log = log.get();
  }
  ~ModeFixture() {
    log.reset();
    std::fclose(err);
    std::fclose(out);
  }
  ModeFixture(const ModeFixture&) = delete;
  ModeFixture& operator=(const ModeFixture&) = delete;

  // The watchdog's own lines so far.
  std::string logged() { return read_all(err); }

  TestLoop loop;
  std::FILE* err;
  std::FILE* out;
  std::unique_ptr<Logger> log;
  Config config;
  ModeContext context;
};

// One ModeStrategy on its own loop. Set `config` up, then `start`.
template <typename Mode> struct ModeHarness : ModeFixture {
  template <typename... Args>
  explicit ModeHarness(Args&&... args) : mode(std::forward<Args>(args)...) {}

  void start() { REQUIRE(mode.start(context) == 0); }

  // Hands a request (with `body`) to the mode; the exchange is closed by `finish`.
  template <typename Fake = FakeExchange>
  std::shared_ptr<Fake> serve(Request request, std::string body = {}) {
    auto ex = std::make_shared<Fake>(loop.get(), std::move(request));
    ex->set_body(std::move(body));
    exchanges.push_back(ex);
    mode.handle(ex);
    return ex;
  }

  // `serve`, then runs the loop until the response has ended.
  std::shared_ptr<FakeExchange> serve_and_wait(Request request, std::string body = {}) {
    auto ex = serve(std::move(request), std::move(body));
    loop.run_until([&] { return ex->done(); });
    return ex;
  }

  // Stops the mode, which must release everything it holds on the loop.
  void finish() {
    bool stopped = false;
    mode.stop([&] { stopped = true; });
    loop.run_until([&] { return stopped; });
    for (auto& ex : exchanges)
      ex->close();
    loop.run();
  }

  Mode mode;
  std::vector<std::shared_ptr<FakeExchange>> exchanges;
};

} // namespace ofwatchdog::testing
