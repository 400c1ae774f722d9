// The streaming mode end to end on a real loop, with real processes and a fake exchange.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

#include "../mode_harness.hpp"
#include "modes/fork/fork_mode.hpp"
#include "ofwatchdog/log.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::ModeHarness;
using ofwatchdog::testing::read_all;
using ofwatchdog::testing::TestLoop;

namespace {

bool process_gone(int pid) {
  if (::kill(pid, 0) != 0)
    return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto paren = all.rfind(')');
  return paren == std::string::npos || all.compare(paren + 2, 1, "Z") == 0;
}

// The streaming mode on its own loop; tests may change `config` before `start`.
struct Harness : ModeHarness<modes::ForkMode> {
  explicit Harness(std::vector<std::string> argv) : ModeHarness(modes::OutputPolicy::stream) {
    config.fprocess_argv = std::move(argv);
    config.environment = {"PATH=/usr/bin:/bin"};
    config.content_type = "text/x-test";
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// True when some log line ends with `line` and the next one contains `next` (the watchdog's own
// lines start with a timestamp).
bool line_then(const std::string& log, const std::string& line, const std::string& next) {
  std::size_t at = 0;
  while ((at = log.find(line + "\n", at)) != std::string::npos) {
    if (at == 0 || log[at - 1] == ' ' || log[at - 1] == '\n') {
      std::size_t start = at + line.size() + 1;
      std::size_t end = log.find('\n', start);
      if (log.substr(start, end - start).find(next) != std::string::npos)
        return true;
    }
    at += 1;
  }
  return false;
}

} // namespace

TEST_CASE("streaming: the body goes through cat and back with 200", "[streaming]") {
  Harness h({"cat"});
  h.start();
  auto ex = h.serve(make_request("POST", "/echo?x=1"), "hello, world");
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK_FALSE(ex->head->content_length); // streamed
  REQUIRE(ex->response_header("Content-Type"));
  CHECK(*ex->response_header("Content-Type") == "text/x-test");
  CHECK(ex->body == "hello, world");
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "Started logging: stderr from function.\n"));
  CHECK(contains(log, "POST /echo?x=1 - 200 - ContentLength: "));
}

TEST_CASE("streaming: the function sees the CGI environment", "[streaming]") {
  Harness h({"env"});
  h.start();
  auto ex = h.serve(make_request("GET", "/a%20b?q=1", {{"Query", "injected"}, {"X-Thing", "v"}}));
  ex->request();
  h.loop.run_until([&] { return ex->done(); });
  CHECK(contains(ex->body, "Http_Method=GET\n"));
  CHECK(contains(ex->body, "Http_Query=q=1\n"));
  CHECK(contains(ex->body, "Http_X_Thing=v\n"));
  CHECK(contains(ex->body, "Http_Host=localhost\n"));
  CHECK_FALSE(contains(ex->body, "injected"));
  h.finish();
}

TEST_CASE("streaming: exit 0 without output is an empty 200", "[streaming]") {
  Harness h({"true"});
  h.start();
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->head->content_length == std::optional<std::uint64_t>(0));
  CHECK(*ex->response_header("Content-Type") == "text/x-test");
  CHECK(ex->body.empty());
  h.finish();
  CHECK(contains(h.logged(), "GET / - 200 - ContentLength: "));
}

TEST_CASE("streaming: a failure before any output is a 500 with the error text", "[streaming]") {
  Harness h({"sh", "-c", "echo oops >&2; exit 3"});
  h.start();
  auto ex = h.serve(make_request("GET", "/fail"));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 500);
  CHECK(*ex->response_header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(ex->body == "exit status 3");
  CHECK(ex->head->content_length == std::optional<std::uint64_t>(13));
  h.finish();
  std::string log = h.logged();
  // The relayed stderr, then the error on its own line, then the access line with 500.
  auto relayed = log.find("oops\n");
  auto error = log.find("exit status 3\n");
  auto access = log.find("GET /fail - 500 - ContentLength: ");
  REQUIRE(relayed != std::string::npos);
  REQUIRE(error != std::string::npos);
  REQUIRE(access != std::string::npos);
  CHECK(relayed < error);
  CHECK(error < access);
}

TEST_CASE("streaming: a failure after output began aborts the stream", "[streaming]") {
  Harness h({"sh", "-c", "printf partial; exit 3"});
  h.start();
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->aborted);
  CHECK_FALSE(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->body == "partial");
  h.finish();
  CHECK(line_then(h.logged(), "exit status 3", "GET / - 500 - ContentLength: "));
}

TEST_CASE("streaming: a program that cannot start is a 500 naming it", "[streaming]") {
  SECTION("missing path") {
    Harness h({"/nonexistent"});
    h.start();
    auto ex = h.serve(make_request("POST", "/"), "ignored body");
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->head->status == 500);
    CHECK(ex->body == "fork/exec /nonexistent: no such file or directory");
    h.finish();
    std::string log = h.logged();
    CHECK(contains(log, "Started logging: stderr from function.\n"));
    CHECK(line_then(log, "fork/exec /nonexistent: no such file or directory", "POST / - 500 - "));
  }
  SECTION("bare name not in PATH") {
    Harness h({"no-such-program-xyz"});
    h.start();
    auto ex = h.serve(make_request("GET", "/"));
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->head->status == 500);
    CHECK(ex->body == "exec: \"no-such-program-xyz\": executable file not found in $PATH");
    h.finish();
  }
}

TEST_CASE("streaming: exec_timeout kills the whole process group", "[streaming]") {
  char dir[] = "/tmp/ofwatchdog-test-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string pidfile = std::string(dir) + "/pid";
  // The shell waits on a grandchild that holds stdout.
  Harness h({"sh", "-c", "sleep 60 & echo $! > " + pidfile + "; wait"});
  h.config.exec_timeout = std::chrono::milliseconds(300);
  h.start();
  std::uint64_t t0 = uv_hrtime();
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return ex->done(); });
  double seconds = static_cast<double>(uv_hrtime() - t0) / 1e9;
  CHECK(seconds < 5);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 500);
  CHECK(ex->body == "signal: killed");
  h.finish();
  std::ifstream in(pidfile);
  int grandchild = 0;
  in >> grandchild;
  REQUIRE(grandchild > 0);
  std::uint64_t deadline = uv_hrtime() + 5'000'000'000ull;
  while (!process_gone(grandchild) && uv_hrtime() < deadline)
    ::usleep(10000);
  CHECK(process_gone(grandchild));
  ::unlink(pidfile.c_str());
  ::rmdir(dir);
  std::string log = h.logged();
  CHECK(contains(log, "Killing the function's process group: exec timeout"));
  CHECK(line_then(log, "signal: killed", "GET / - 500 - "));
}

TEST_CASE("streaming: X-Timeout may shorten exec_timeout, never disable it", "[streaming]") {
  SECTION("shorter") {
    Harness h({"sleep", "60"});
    h.config.exec_timeout = std::chrono::seconds(60);
    h.start();
    auto ex = h.serve(make_request("GET", "/", {{"X-Timeout", "200ms"}}));
    h.loop.run_until([&] { return ex->done(); }, 5);
    CHECK(ex->body == "signal: killed");
    h.finish();
  }
  SECTION("zero is ignored") {
    Harness h({"sleep", "60"});
    h.config.exec_timeout = std::chrono::milliseconds(200);
    h.start();
    auto ex = h.serve(make_request("GET", "/", {{"X-Timeout", "0s"}}));
    h.loop.run_until([&] { return ex->done(); }, 5);
    CHECK(ex->body == "signal: killed");
    h.finish();
  }
}

TEST_CASE("streaming: a client that goes away gets the function killed", "[streaming]") {
  Harness h({"sh", "-c", "echo started; sleep 60"});
  h.config.exec_timeout = std::chrono::seconds(60);
  h.start();
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return !ex->body.empty(); });
  CHECK(ex->body == "started\n");
  ex->cancel(CancelReason::client_closed);
  h.finish(); // would wait 60 s if the group were not killed
  std::string log = h.logged();
  CHECK(contains(log, "Killing the function's process group: the request ended early"));
  CHECK(line_then(log, "signal: killed", "GET / - 500 - "));
}

TEST_CASE("streaming: stop() kills running functions", "[streaming]") {
  Harness h({"sleep", "60"});
  h.config.exec_timeout = std::chrono::seconds(60);
  h.start();
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return true; });
  h.finish();
  CHECK(ex->done());
}

TEST_CASE("streaming: no access line for kube-probe", "[streaming]") {
  Harness h({"true"});
  h.start();
  auto ex = h.serve(make_request("GET", "/probe", {{"User-Agent", "kube-probe/1.27"}}));
  h.loop.run_until([&] { return ex->done(); });
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "Started logging"));
  CHECK_FALSE(contains(log, "GET /probe"));
}

TEST_CASE("streaming: output reaches the client before the function exits", "[streaming]") {
  Harness h({"sh", "-c", "echo first; cat >/dev/null; echo second"});
  h.start();
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), make_request("POST", "/"));
  ex->set_body("x");
  ex->hold_body_open();
  h.exchanges.push_back(ex);
  h.mode.handle(ex);
  h.loop.run_until([&] { return ex->body == "first\n"; });
  CHECK_FALSE(ex->done());
  ex->end_body();
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->body == "first\nsecond\n");
  CHECK(ex->finished);
  h.finish();
}

TEST_CASE("streaming: backpressure both ways with a slow client", "[streaming]") {
  Harness h({"cat"});
  h.start();
  std::string body(8 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>(i * 7 + i / 4096);
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), make_request("POST", "/"));
  ex->set_body(body);
  // Output is read in pieces of up to 256 KiB and the pipes hold 1 MiB each way, so the client
  // must be really slow (one piece per 20 ms) for stdin to fill up while stdout is held back.
  ex->set_slow_client(256 * 1024, 20);
  h.exchanges.push_back(ex);
  h.mode.handle(ex);
  h.loop.run_until([&] { return ex->done(); }, 30);
  CHECK(ex->finished);
  CHECK(ex->body.size() == body.size());
  CHECK(ex->body == body);
  CHECK(ex->stops > 0);
  CHECK(ex->pauses > 0); // stdin filled up while stdout was held back
  h.finish();
}

TEST_CASE("streaming: a function that ignores its stdin still answers 200", "[streaming]") {
  Harness h({"sh", "-c", "echo ignored"});
  h.start();
  auto ex = h.serve(make_request("POST", "/"), std::string(4 << 20, 'b'));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  CHECK(ex->head->status == 200);
  CHECK(ex->body == "ignored\n");
  h.finish();
}

TEST_CASE("streaming: many requests leave nothing behind", "[streaming]") {
  Harness h({"cat"});
  h.start();
  for (int i = 0; i < 50; ++i) {
    std::string body = fmt::format("r{}", i);
    auto ex = h.serve(make_request("POST", "/"), body);
    h.loop.run_until([&] { return ex->done(); });
    CHECK(ex->body == body);
  }
  h.finish(); // TestLoop's destructor checks that every handle is closed
}

TEST_CASE("streaming: a declared body over max_body_size is a 413 before the fork", "[streaming]") {
  Harness h({"cat"});
  h.config.max_body_size = 10;
  h.start();
  Request big = make_request("POST", "/big", {{"Content-Length", "11"}});
  big.content_length = 11;
  auto ex = h.serve(std::move(big), std::string(11, 'x'));
  h.loop.run_until([&] { return ex->done(); });
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 413);
  REQUIRE(ex->response_header("X-OpenFaaS-Internal"));
  CHECK(ex->body == "Request body too large: the limit is 10 bytes");
  // A chunked body is not limited in streaming mode: it goes through in constant memory.
  Request chunked = make_request("POST", "/", {{"Transfer-Encoding", "chunked"}});
  chunked.chunked = true;
  auto passed = h.serve(std::move(chunked), std::string(20, 'y'));
  h.loop.run_until([&] { return passed->done(); });
  CHECK(passed->head->status == 200);
  CHECK(passed->body == std::string(20, 'y'));
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "POST /big - 413 - ContentLength: "));
  CHECK(contains(log, "POST / - 200 - ContentLength: "));
}
