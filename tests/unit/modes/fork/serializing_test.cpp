// The serializing mode end to end on a real loop, with real processes and a fake exchange.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <string>

#include <fmt/format.h>

#include "../../process/test_bytes.hpp"
#include "../mode_harness.hpp"
#include "log/format.hpp"
#include "modes/fork/fork_mode.hpp"
#include "ofwatchdog/log.hpp"
#include "process/pipe_file_splice.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::ModeHarness;
using ofwatchdog::testing::read_all;
using ofwatchdog::testing::TestLoop;

using ofwatchdog::testing::pattern;

namespace {

// The serializing mode on its own loop, started.
struct Harness : ModeHarness<modes::ForkMode> {
  explicit Harness(std::vector<std::string> argv) : ModeHarness(modes::OutputPolicy::collect) {
    config.mode = "serializing";
    config.fprocess_argv = std::move(argv);
    config.environment = {"PATH=/usr/bin:/bin"};
    config.content_type = "text/x-test";
    start();
  }
};

// Runs the loop for about `seconds`, whatever else is (or is not) pending.
void run_for(TestLoop& loop, double seconds) {
  uv_timer_t timer;
  bool fired = false;
  uv_timer_init(loop.get(), &timer);
  timer.data = &fired;
  uv_timer_start(
      &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
      static_cast<std::uint64_t>(seconds * 1000), 0);
  loop.run_until([&] { return fired; });
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(loop.get(), UV_RUN_NOWAIT);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool is_duration(const std::string* value) {
  return value != nullptr && std::regex_match(*value, std::regex(R"(\d+\.\d{6})"));
}

} // namespace

TEST_CASE("serializing: cat echoes the body with Content-Length", "[serializing]") {
  Harness h({"cat"});
  std::string body(300 * 1024, 'x');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>('a' + i % 26);
  auto ex = h.serve_and_wait(make_request("POST", "/echo?x=1"), body);
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  REQUIRE(ex->head->content_length);
  CHECK(*ex->head->content_length == body.size());
  REQUIRE(ex->response_header("Content-Type"));
  CHECK(*ex->response_header("Content-Type") == "text/x-test");
  CHECK(is_duration(ex->response_header("X-Duration-Seconds")));
  CHECK(ex->body == body);
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "Started logging: stderr from function.\n"));
  CHECK(contains(log, "POST /echo?x=1 - 200 - ContentLength: "));
}

TEST_CASE("serializing: an empty output is a 200 with length 0", "[serializing]") {
  Harness h({"true"});
  auto ex = h.serve_and_wait(make_request("GET", "/"));
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->head->content_length == std::uint64_t{0});
  CHECK(ex->body.empty());
  h.finish();
}

TEST_CASE("serializing: a non-zero exit is a 500 and the output is dropped", "[serializing]") {
  Harness h({"sh", "-c", "echo partial; echo oops >&2; exit 3"});
  auto ex = h.serve_and_wait(make_request("GET", "/f"));
  REQUIRE(ex->head);
  CHECK(ex->head->status == 500);
  CHECK(ex->body == "exit status 3");
  CHECK(ex->head->content_length == std::uint64_t{13});
  CHECK(*ex->response_header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(is_duration(ex->response_header("X-Duration-Seconds")));
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "oops\n"));
  CHECK(contains(log, "exit status 3\n"));
  CHECK(contains(log, "GET /f - 500 - ContentLength: 13"));
}

TEST_CASE("serializing: a program that cannot start is a 500 naming it", "[serializing]") {
  Harness h({"/nonexistent/fn"});
  auto ex = h.serve_and_wait(make_request("POST", "/"), "body");
  REQUIRE(ex->head);
  CHECK(ex->head->status == 500);
  CHECK(ex->body == "fork/exec /nonexistent/fn: no such file or directory");
  CHECK(is_duration(ex->response_header("X-Duration-Seconds")));
  h.finish();
}

TEST_CASE("serializing: the function starts only after the whole body", "[serializing]") {
  Harness h({"cat"});
  auto ex = h.serve(make_request("POST", "/"), "first part ");
  ex->hold_body_open();
  run_for(h.loop, 0.2);
  CHECK_FALSE(contains(h.logged(), "Started logging"));
  ex->set_body("first part second part"); // the fake keeps its offset: only the rest is new
  ex->end_body();
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->body == "first part second part");
  h.finish();
}

TEST_CASE("serializing: the exec timeout covers reading the body", "[serializing]") {
  Harness h({"cat"});
  h.config.exec_timeout = std::chrono::milliseconds(200);
  auto ex = h.serve(make_request("POST", "/"), "never ends");
  ex->hold_body_open();
  h.loop.run_until([&] { return ex->done(); }, 5);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 500);
  CHECK(ex->body == "context deadline exceeded");
  h.finish();
  CHECK_FALSE(contains(h.logged(), "Started logging"));
}

TEST_CASE("serializing: the exec timeout kills the function", "[serializing]") {
  Harness h({"sh", "-c", "sleep 60 & wait"});
  h.config.exec_timeout = std::chrono::milliseconds(300);
  std::uint64_t t0 = uv_hrtime();
  auto ex = h.serve(make_request("GET", "/", {{"X-Timeout", "100ms"}}));
  h.loop.run_until([&] { return ex->done(); }, 5);
  CHECK(static_cast<double>(uv_hrtime() - t0) / 1e9 < 5);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 500);
  CHECK(ex->body == "signal: killed");
  h.finish();
  CHECK(contains(h.logged(), "Killing the function's process group: exec timeout of 100ms"));
}

TEST_CASE("serializing: a function that ignores a large stdin still answers 200", "[serializing]") {
  Harness h({"sh", "-c", "echo done"});
  auto ex = h.serve_and_wait(make_request("POST", "/"), std::string(1 << 20, 'z'));
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->body == "done\n");
  h.finish();
}

TEST_CASE("serializing: a client that goes away gets the function killed", "[serializing]") {
  SECTION("while it runs") {
    Harness h({"sleep", "60"});
    auto ex = h.serve(make_request("GET", "/"));
    h.loop.run_until([&] { return contains(h.logged(), "Started logging"); });
    ex->cancel(CancelReason::client_closed);
    h.finish(); // would wait 60 s if the group were not killed
    CHECK(contains(h.logged(), "Killing the function's process group: the request ended early"));
  }
  SECTION("while the body is read") {
    Harness h({"cat"});
    auto ex = h.serve(make_request("POST", "/"), "part");
    ex->hold_body_open();
    run_for(h.loop, 0.1);
    ex->cancel(CancelReason::client_closed);
    h.finish();
    std::string log = h.logged();
    CHECK_FALSE(contains(log, "Started logging"));
    CHECK(contains(log, "POST / - 500 - "));
  }
}

TEST_CASE("serializing: stop() kills running functions", "[serializing]") {
  Harness h({"sleep", "60"});
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return contains(h.logged(), "Started logging"); });
  h.finish();
  CHECK(ex->done());
}

namespace {
void check_413(const FakeExchange& ex) {
  CHECK(ex.finished);
  REQUIRE(ex.head);
  CHECK(ex.head->status == 413);
  REQUIRE(ex.response_header("X-OpenFaaS-Internal"));
  CHECK(*ex.response_header("X-OpenFaaS-Internal") == "of-watchdog");
  REQUIRE(ex.response_header("Content-Type"));
  CHECK(*ex.response_header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(ex.body == "Request body too large: the limit is 25 bytes");
  CHECK(ex.head->content_length == ex.body.size());
}
} // namespace

TEST_CASE("serializing: a declared body over max_body_size is a 413 and nothing runs",
          "[serializing]") {
  Harness h({"cat"});
  h.config.max_body_size = 25;
  Request r = make_request("POST", "/big", {{"Content-Length", "26"}});
  r.content_length = 26;
  auto ex = h.serve_and_wait(std::move(r), std::string(26, 'x'));
  check_413(*ex);
  h.finish();
  std::string log = h.logged();
  CHECK_FALSE(contains(log, "Started logging"));
  CHECK(contains(log, "Request body too large: the limit is 25 bytes\n"));
  CHECK(contains(log, "POST /big - 413 - ContentLength: "));
}

TEST_CASE("serializing: a chunked body is refused as soon as it passes max_body_size",
          "[serializing]") {
  Harness h({"cat"});
  h.config.max_body_size = 25;
  Request r = make_request("POST", "/", {{"Transfer-Encoding", "chunked"}});
  r.chunked = true;
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), std::move(r));
  ex->set_body(std::string(30, 'y'), 10);
  ex->hold_body_open(); // a client still sending: the 413 must not wait for the end
  h.exchanges.push_back(ex);
  h.mode.handle(ex);
  h.loop.run_until([&] { return ex->done(); });
  check_413(*ex);
  h.finish();
  CHECK_FALSE(contains(h.logged(), "Started logging"));
}

TEST_CASE("serializing: a body of exactly max_body_size passes", "[serializing]") {
  Harness h({"cat"});
  h.config.max_body_size = 25;
  Request r = make_request("POST", "/", {{"Transfer-Encoding", "chunked"}});
  r.chunked = true;
  auto chunked = h.serve_and_wait(std::move(r), std::string(25, 'z'));
  CHECK(chunked->head->status == 200);
  CHECK(chunked->body == std::string(25, 'z'));
  Request declared = make_request("POST", "/", {{"Content-Length", "25"}});
  declared.content_length = 25;
  auto ex = h.serve_and_wait(std::move(declared), std::string(25, 'w'));
  CHECK(ex->head->status == 200);
  CHECK(ex->body == std::string(25, 'w'));
  h.finish();
}

TEST_CASE("serializing: a large output is sent from its file, with backpressure", "[serializing]") {
  // Over the queue's heap blocks, so most of the output is in its in-memory file; this exchange
  // offers no sendfile, so the file is read back and sent piece by piece.
  Harness h({"cat"});
  std::string body(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>((i * 7 + i / 4099) & 0xff);
  auto ex = h.serve(make_request("POST", "/big"), body);
  ex->set_slow_client(256 * 1024);
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->head->content_length == std::uint64_t{body.size()});
  CHECK(ex->body == body);
  CHECK(ex->stops > 0);
  h.finish();
  // The access line counts the bytes sent from the file too.
  CHECK(contains(h.logged(), fmt::format("POST /big - 200 - ContentLength: {} ",
                                         human_size(static_cast<std::int64_t>(body.size())))));
}

TEST_CASE("serializing: a client that goes away while the output file is sent", "[serializing]") {
  Harness h({"cat"});
  auto ex = h.serve(make_request("POST", "/"), std::string(2 * 1024 * 1024, 'q'));
  ex->set_slow_client(64 * 1024, 50);
  h.loop.run_until([&] { return ex->head.has_value() && !ex->body.empty(); });
  ex->cancel(CancelReason::client_closed);
  h.finish(); // waits for the exchange to let go of its file and itself
  CHECK_FALSE(ex->finished);
  CHECK(ex->body.size() < 2 * 1024 * 1024);
}

// --- bodies and outputs the kernel moves ------------------------------------------------------

namespace {

// A request whose body the exchange splices (as the server does for a Content-Length body):
// the body lands whole in its file, and the output is written over it.
std::shared_ptr<FakeExchange> serve_spliced(Harness& h, const std::string& body,
                                            bool hold_open = false) {
  Request r = make_request("POST", "/spliced", {{"Content-Length", std::to_string(body.size())}});
  r.content_length = body.size();
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), std::move(r));
  ex->set_body(body);
  ex->allow_body_splice();
  if (hold_open)
    ex->hold_body_open();
  h.exchanges.push_back(ex);
  h.mode.handle(ex);
  return ex;
}

// A file in /tmp holding `data`, removed with the object.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& data) {
    char name[] = "/tmp/ofwatchdog-serializing-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fd);
    path = name;
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

// Every case runs with splice(2) and with the pipe splices' copying fallback.
struct SpliceAllowed {
  explicit SpliceAllowed(bool allowed) {
    process::PipeFileSplice::set_splice_allowed_for_testing(allowed);
  }
  ~SpliceAllowed() { process::PipeFileSplice::set_splice_allowed_for_testing(true); }
};

} // namespace

TEST_CASE("serializing: a spliced body larger than the pipes goes through cat whole",
          "[serializing]") {
  SpliceAllowed mode(GENERATE(true, false));
  Harness h({"cat"});
  std::string body = pattern(6 * 1024 * 1024 + 99, 1);
  auto ex = serve_spliced(h, body);
  h.loop.run_until([&] { return ex->done(); }, 30);
  CHECK(ex->body_spliced());
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->head->content_length == std::uint64_t{body.size()});
  CHECK(ex->body == body);
  h.finish();
  CHECK(contains(h.logged(), fmt::format("POST /spliced - 200 - ContentLength: {} ",
                                         human_size(static_cast<std::int64_t>(body.size())))));
}

TEST_CASE("serializing: a function that writes more than it reads", "[serializing]") {
  SpliceAllowed mode(GENERATE(true, false));
  std::string body = pattern(3 * 1024 * 1024, 2);
  std::string extra = pattern(2 * 1024 * 1024 + 5, 3);
  TempFile file(extra);
  SECTION("after reading: the rest goes past the body") {
    Harness h({"sh", "-c", "cat; cat " + file.path});
    auto ex = serve_spliced(h, body);
    h.loop.run_until([&] { return ex->done(); }, 30);
    CHECK(ex->head->status == 200);
    CHECK(ex->body == body + extra);
    h.finish();
  }
  SECTION("before reading") {
    Harness h({"sh", "-c", "cat " + file.path + "; cat"});
    auto ex = serve_spliced(h, body);
    h.loop.run_until([&] { return ex->done(); }, 30);
    CHECK(ex->head->status == 200);
    CHECK(ex->body == extra + body);
    h.finish();
  }
  SECTION("without reading at all") {
    Harness h({"cat", file.path});
    auto ex = serve_spliced(h, body);
    h.loop.run_until([&] { return ex->done(); }, 30);
    CHECK(ex->head->status == 200);
    CHECK(ex->body == extra);
    h.finish();
  }
}

TEST_CASE("serializing: a function that exits before reading all of a spliced body",
          "[serializing]") {
  SpliceAllowed mode(GENERATE(true, false));
  Harness h({"head", "-c", "1000"});
  std::string body = pattern(4 * 1024 * 1024, 4);
  auto ex = serve_spliced(h, body);
  h.loop.run_until([&] { return ex->done(); }, 30);
  CHECK(ex->head->status == 200);
  CHECK(ex->body == body.substr(0, 1000));
  h.finish();
}

TEST_CASE("serializing: a function that reads part of its body, then writes a lot",
          "[serializing]") {
  // It writes over the part it has read and past the body; the part it never read stays out.
  std::string body = pattern(2 * 1024 * 1024, 5);
  std::string extra = pattern(3 * 1024 * 1024, 6);
  TempFile file(extra);
  Harness h({"sh", "-c", "head -c 1500000 >/dev/null; cat " + file.path});
  auto ex = serve_spliced(h, body);
  h.loop.run_until([&] { return ex->done(); }, 30);
  CHECK(ex->head->status == 200);
  CHECK(ex->body == extra);
  h.finish();
}

TEST_CASE("serializing: a spliced body that never ends does not start the function",
          "[serializing]") {
  SECTION("the exec timeout") {
    Harness h({"cat"});
    h.config.exec_timeout = std::chrono::milliseconds(300);
    auto ex = serve_spliced(h, pattern(1024 * 1024, 7), true);
    h.loop.run_until([&] { return ex->done(); }, 5);
    CHECK(ex->body_spliced());
    REQUIRE(ex->head);
    CHECK(ex->head->status == 500);
    CHECK(ex->body == "context deadline exceeded");
    h.finish();
    CHECK_FALSE(contains(h.logged(), "Started logging"));
  }
  SECTION("the client goes away") {
    Harness h({"cat"});
    auto ex = serve_spliced(h, pattern(1024 * 1024, 8), true);
    h.loop.run_until([&] { return ex->body_spliced(); });
    run_for(h.loop, 0.1);
    ex->cancel(CancelReason::client_closed);
    h.finish();
    std::string log = h.logged();
    CHECK_FALSE(contains(log, "Started logging"));
    CHECK(contains(log, "POST /spliced - 500 - "));
  }
}

TEST_CASE("serializing: a spliced body's output goes out from its file, with backpressure",
          "[serializing]") {
  Harness h({"cat"});
  std::string body = pattern(5 * 1024 * 1024, 9);
  auto ex = serve_spliced(h, body);
  ex->set_slow_client(512 * 1024);
  h.loop.run_until([&] { return ex->done(); }, 30);
  CHECK(ex->finished);
  CHECK(ex->body == body);
  CHECK(ex->stops > 0);
  h.finish();
}
