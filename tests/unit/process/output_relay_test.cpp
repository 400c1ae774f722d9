// OutputRelay: a function's stderr, line by line, into the log.
#include <catch2/catch.hpp>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "ofwatchdog/log.hpp"
#include "process/child_process.hpp"
#include "process/output_relay.hpp"
#include "test_loop.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::process;
using ofwatchdog::testing::read_all;
using ofwatchdog::testing::TestLoop;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// Runs `script` under sh and relays its stderr; returns what was logged.
std::string relay_script(const std::string& script, std::int64_t max_line, bool prefix) {
  std::FILE* err = std::tmpfile();
  std::FILE* out = std::tmpfile();
  std::string logged;
  {
    Logger log(LogFormat::text, prefix, err, out);
    TestLoop loop;
    bool ended = false;
    bool exited = false;
    OutputRelay relay(log, "stderr", max_line, [&] { ended = true; });
    auto spawned = ChildProcess::spawn(loop.get(), {{"sh", "-c", script}, {"PATH=/usr/bin:/bin"}},
                                       [&](const ExitStatus&) { exited = true; });
    REQUIRE(spawned.child != nullptr);
    relay.attach(*spawned.child, Stdio::err);
    spawned.child->close_stdin();
    loop.run_until([&] { return ended && exited; });
    CHECK(relay.ended());
    spawned.child->release();
    loop.run();
    logged = read_all(err);
  }
  std::fclose(err);
  std::fclose(out);
  return logged;
}

} // namespace

TEST_CASE("stderr lines are relayed raw without prefix_logs, the last one too",
          "[output_relay]") {
  std::string logged =
      relay_script("printf 'one\\r\\ntwo\\n\\n%s\\nlast' '100% {}' >&2", 65536, false);
  CHECK(lines_of(logged) == std::vector<std::string>{"one", "two", "", "100% {}", "last"});
}

TEST_CASE("stderr lines carry a timestamp and `stderr: ` with prefix_logs", "[output_relay]") {
  std::string logged = relay_script("echo hello >&2", 65536, true);
  auto lines = lines_of(logged);
  REQUIRE(lines.size() == 1);
  // "YYYY/MM/DD HH:MM:SS stderr: hello"
  CHECK(lines[0].size() == 20 + std::string("stderr: hello").size());
  CHECK(lines[0].substr(20) == "stderr: hello");
}

TEST_CASE("an over-long line is split and the function is not blocked", "[output_relay]") {
  // 100 KB in one line, then 200 KB more: far more than a pipe holds, so this only finishes
  // if the relay keeps draining.
  std::string logged = relay_script(
      "head -c 100000 /dev/zero | tr '\\0' a >&2; echo >&2; "
      "head -c 200000 /dev/zero | tr '\\0' b >&2; echo done >&2",
      1000, false);
  auto lines = lines_of(logged);
  REQUIRE(lines.size() == 1 + 100 + 200 + 1);
  CHECK(lines[0].find("longer than log_buffer_size (1000 bytes)") != std::string::npos);
  CHECK(lines[1] == std::string(1000, 'a'));
  CHECK(lines[100] == std::string(1000, 'a'));
  CHECK(lines[101] == std::string(1000, 'b'));
  CHECK(lines.back() == "done");
}

TEST_CASE("log_buffer_size 0 drains and discards, with one warning", "[output_relay]") {
  std::string logged =
      relay_script("head -c 300000 /dev/zero | tr '\\0' a >&2; echo x >&2", 0, false);
  auto lines = lines_of(logged);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("log_buffer_size is 0") != std::string::npos);
}
