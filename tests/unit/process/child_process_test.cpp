// ChildProcess against real processes: pipes, exit statuses, spawn failures, process groups.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "process/child_process.hpp"
#include "test_bytes.hpp"
#include "test_loop.hpp"

using namespace ofwatchdog::process;
using ofwatchdog::testing::TestLoop;

using ofwatchdog::testing::memfd_with;
using ofwatchdog::testing::pattern;

namespace {

struct Collector : OutputSink {
  std::string data;
  bool ended = false;
  int status = 1;
  void on_output(std::string_view d) override { data.append(d); }
  void on_output_end(int s) override {
    ended = true;
    status = s;
  }
};

std::vector<std::string> base_env() {
  return {"PATH=/usr/bin:/bin", "FOO=bar"};
}

bool process_gone(int pid) {
  if (::kill(pid, 0) != 0)
    return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto paren = all.rfind(')');
  return paren == std::string::npos || all.compare(paren + 2, 1, "Z") == 0;
}

} // namespace

TEST_CASE("resolve_program searches PATH only for bare names", "[child_process]") {
  CHECK(resolve_program("/no/such/thing", {}).path == "/no/such/thing");
  CHECK(resolve_program("./relative", {}).path == "./relative");
  ResolvedProgram sh = resolve_program("sh", base_env());
  CHECK(sh.error.empty());
  CHECK((sh.path == "/usr/bin/sh" || sh.path == "/bin/sh"));
  CHECK(resolve_program("sh", {}).error == "exec: \"sh\": executable file not found in $PATH");
  CHECK(resolve_program("sh", {"PATH="}).error ==
        "exec: \"sh\": executable file not found in $PATH");
  CHECK(resolve_program("no-such-program-xyz", base_env()).error ==
        "exec: \"no-such-program-xyz\": executable file not found in $PATH");
  // Directories on PATH named like the program do not count.
  CHECK_FALSE(resolve_program("bin", {"PATH=/usr:/"}).error.empty());
}

TEST_CASE("stdout, stderr and the exit status of a child", "[child_process]") {
  TestLoop loop;
  Collector out, err;
  std::optional<ExitStatus> exit;
  auto spawned = ChildProcess::spawn(
      loop.get(), {{"sh", "-c", "echo out; echo err >&2; echo $FOO; exit 3"}, base_env()},
      [&](const ExitStatus& s) { exit = s; });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  CHECK(child->pid() > 0);
  child->read_output(Stdio::out, &out);
  child->read_output(Stdio::err, &err);
  child->close_stdin();
  loop.run_until([&] { return exit && out.ended && err.ended; });
  CHECK(out.data == "out\nbar\n");
  CHECK(err.data == "err\n");
  CHECK(out.status == 0);
  CHECK(exit->exit_status == 3);
  CHECK(exit->term_signal == 0);
  CHECK(exit_error_text(*exit) == "exit status 3");
  bool closed = false;
  child->release([&] { closed = true; });
  loop.run();
  CHECK(closed);
}

TEST_CASE("stdin is written and closed after the queued data", "[child_process]") {
  TestLoop loop;
  Collector out;
  bool exited = false;
  auto spawned = ChildProcess::spawn(loop.get(), {{"cat"}, base_env()},
                                     [&](const ExitStatus& s) { exited = s.success(); });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->read_output(Stdio::out, &out);
  std::string big(1 << 20, 'x'); // more than a pipe holds, so some of it is queued
  for (int i = 0; i < 4; ++i)
    REQUIRE(child->write_stdin(big) == 0);
  CHECK(child->stdin_queued_bytes() > 0);
  child->close_stdin();
  CHECK_FALSE(child->stdin_open());
  CHECK(child->write_stdin("late") == UV_EPIPE);
  loop.run_until([&] { return exited && out.ended; });
  CHECK(out.data.size() == 4u << 20);
  child->release();
  loop.run();
}

TEST_CASE("a function that ignores stdin gives EPIPE, not a crash", "[child_process]") {
  std::signal(SIGPIPE, SIG_IGN);
  TestLoop loop;
  bool exited = false;
  std::vector<int> statuses;
  auto spawned = ChildProcess::spawn(loop.get(), {{"true"}, base_env()},
                                     [&](const ExitStatus&) { exited = true; });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->set_stdin_callback([&](int status) { statuses.push_back(status); });
  loop.run_until([&] { return exited; });
  std::string big(1 << 20, 'x');
  int rc = child->write_stdin(big);
  if (rc == 0)
    loop.run_until([&] { return !statuses.empty(); });
  CHECK((rc == UV_EPIPE || (statuses.size() == 1 && statuses[0] == UV_EPIPE)));
  child->release();
  loop.run();
}

TEST_CASE("spawn failures are reported with the original's texts", "[child_process]") {
  TestLoop loop;
  auto missing = ChildProcess::spawn(loop.get(), {{"/nonexistent"}, base_env()}, nullptr);
  CHECK(missing.child == nullptr);
  CHECK(missing.error == "fork/exec /nonexistent: no such file or directory");

  auto bare = ChildProcess::spawn(loop.get(), {{"no-such-program-xyz"}, base_env()}, nullptr);
  CHECK(bare.child == nullptr);
  CHECK(bare.error == "exec: \"no-such-program-xyz\": executable file not found in $PATH");

  char path[] = "/tmp/ofwatchdog-noexec-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  ::chmod(path, 0644);
  auto noexec = ChildProcess::spawn(loop.get(), {{path}, base_env()}, nullptr);
  ::unlink(path);
  CHECK(noexec.child == nullptr);
  CHECK(noexec.error == std::string("fork/exec ") + path + ": permission denied");

  auto empty = ChildProcess::spawn(loop.get(), {{}, base_env()}, nullptr);
  CHECK(empty.child == nullptr);
  CHECK(empty.error == "exec: \"\": executable file not found in $PATH");
  loop.run(); // the failed handles close
}

TEST_CASE("a spawn short of descriptors for its pipes says so, apart from other failures",
          "[child_process]") {
  TestLoop loop;
  auto missing = ChildProcess::spawn(loop.get(), {{"/nonexistent"}, base_env()}, nullptr);
  CHECK_FALSE(missing.out_of_descriptors());
  CHECK(missing.code == UV_ENOENT);
  auto bare = ChildProcess::spawn(loop.get(), {{"no-such-program-xyz"}, base_env()}, nullptr);
  CHECK_FALSE(bare.out_of_descriptors());

  // A soft limit below every open descriptor: no pipe can be made.
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  rlimit low = saved;
  low.rlim_cur = 3;
  ::setrlimit(RLIMIT_NOFILE, &low);
  auto starved = ChildProcess::spawn(loop.get(), {{"/bin/true"}, base_env()}, nullptr);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  CHECK(starved.child == nullptr);
  CHECK(starved.out_of_descriptors());
  CHECK(starved.error == "fork/exec /bin/true: too many open files");
  loop.run();
}

TEST_CASE("kill_group reaches grandchildren", "[child_process]") {
  TestLoop loop;
  Collector out;
  std::optional<ExitStatus> exit;
  auto spawned =
      ChildProcess::spawn(loop.get(), {{"sh", "-c", "sleep 60 & echo $!; wait"}, base_env()},
                          [&](const ExitStatus& s) { exit = s; });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->read_output(Stdio::out, &out);
  loop.run_until([&] { return out.data.find('\n') != std::string::npos; });
  int grandchild = std::stoi(out.data);
  CHECK(::getpgid(grandchild) == child->pid()); // its own group, led by the child
  CHECK(::getpgid(child->pid()) == child->pid());
  REQUIRE(child->kill_group(SIGKILL) == 0);
  loop.run_until([&] { return exit.has_value() && out.ended; });
  CHECK(exit_error_text(*exit) == "signal: killed");
  child->release();
  loop.run();
  std::uint64_t deadline = uv_hrtime() + 5'000'000'000ull;
  while (!process_gone(grandchild) && uv_hrtime() < deadline)
    ::usleep(10000);
  CHECK(process_gone(grandchild));
}

TEST_CASE("a child released before it exits is still reaped", "[child_process]") {
  TestLoop loop;
  auto spawned = ChildProcess::spawn(loop.get(), {{"sleep", "60"}, base_env()}, nullptr);
  REQUIRE(spawned.child != nullptr);
  int pid = spawned.child->pid();
  spawned.child->kill_group(SIGKILL);
  bool closed = false;
  spawned.child->release([&] { closed = true; });
  loop.run();
  CHECK(closed);
  CHECK(::kill(pid, 0) != 0); // reaped: not even a zombie is left
}

TEST_CASE("close_pipe stops waiting for a stream another process holds", "[child_process]") {
  TestLoop loop;
  Collector out;
  std::optional<ExitStatus> exit;
  // The shell exits at once; its background sleep keeps stdout open.
  auto spawned = ChildProcess::spawn(loop.get(), {{"sh", "-c", "sleep 60 & exit 0"}, base_env()},
                                     [&](const ExitStatus& s) { exit = s; });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->read_output(Stdio::out, &out);
  loop.run_until([&] { return exit.has_value(); });
  CHECK_FALSE(out.ended);
  child->close_pipe(Stdio::out);
  CHECK_FALSE(child->pipe_open(Stdio::out));
  child->kill_group(SIGKILL); // the sleep, still in the group
  child->release();
  loop.run();
  CHECK_FALSE(out.ended); // the sink is not called after close_pipe
}

// --- bytes the kernel moves ----------------------------------------------------------------------

namespace {

std::string file_bytes(int fd, std::size_t length) {
  std::string out(length, '\0');
  REQUIRE(::pread(fd, out.data(), length, 0) == static_cast<ssize_t>(length));
  return out;
}

// Where a splice ended, and what it moved.
struct Moved {
  std::uint64_t bytes = 0;
  std::optional<int> status;
};

} // namespace

TEST_CASE("a body larger than the pipe is spliced into stdin and stdout into a file",
          "[child_process]") {
  TestLoop loop;
  std::string body = pattern(5 * 1024 * 1024 + 17, 1);
  int in = memfd_with(body);
  int out_file = memfd_with("");
  Collector sink;
  std::optional<ExitStatus> exit;
  auto spawned = ChildProcess::spawn(loop.get(), {{"cat"}, base_env()},
                                     [&](const ExitStatus& s) { exit = s; });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->read_output(Stdio::out, &sink);
  Moved stdin_moved, stdout_moved;
  REQUIRE(child->splice_output_to(
      Stdio::out, out_file, 0, [&](std::uint64_t n) { stdout_moved.bytes += n; },
      [&](int status) { stdout_moved.status = status; }));
  REQUIRE(child->splice_stdin_from(
      in, 0, body.size(), [&](std::uint64_t n) { stdin_moved.bytes += n; },
      [&](int status) {
        stdin_moved.status = status;
        child->close_stdin();
      }));
  CHECK_FALSE(child->splice_stdin_from(in, 0, 1, nullptr, nullptr)); // one at a time
  loop.run_until([&] { return exit && sink.ended; });
  CHECK(stdin_moved.status == 0);
  CHECK(stdin_moved.bytes == body.size());
  CHECK(stdout_moved.status == 0);
  CHECK(sink.status == 0);  // the end still reaches the sink
  CHECK(sink.data.empty()); // but no byte did
  CHECK(file_bytes(out_file, body.size()) == body);
  child->release();
  loop.run();
  ::close(in);
  ::close(out_file);
}

TEST_CASE("a function that exits before reading all of stdin ends its splice with EPIPE",
          "[child_process]") {
  std::signal(SIGPIPE, SIG_IGN);
  TestLoop loop;
  std::string body = pattern(4 * 1024 * 1024, 2);
  int in = memfd_with(body);
  Collector sink;
  bool exited = false;
  auto spawned = ChildProcess::spawn(loop.get(), {{"head", "-c", "1000"}, base_env()},
                                     [&](const ExitStatus&) { exited = true; });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->read_output(Stdio::out, &sink);
  Moved moved;
  REQUIRE(child->splice_stdin_from(
      in, 0, body.size(), [&](std::uint64_t n) { moved.bytes += n; },
      [&](int status) { moved.status = status; }));
  loop.run_until([&] { return moved.status.has_value() && exited && sink.ended; });
  CHECK(*moved.status == UV_EPIPE);
  CHECK(moved.bytes < body.size());
  CHECK(sink.data == body.substr(0, 1000));
  child->release();
  loop.run();
  ::close(in);
}

TEST_CASE("stdout spliced into a file that takes nothing goes to the sink instead",
          "[child_process]") {
  TestLoop loop;
  int file = memfd_with("");
  // The same file opened for reading only: every write into it fails (EBADF).
  int read_only = ::open(("/proc/self/fd/" + std::to_string(file)).c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(read_only >= 0);
  std::string extra = pattern(3 * 1024 * 1024, 3);
  Collector sink;
  std::optional<ExitStatus> exit;
  auto spawned = ChildProcess::spawn(loop.get(), {{"cat"}, base_env()},
                                     [&](const ExitStatus& s) { exit = s; });
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->read_output(Stdio::out, &sink);
  Moved moved;
  REQUIRE(child->splice_output_to(
      Stdio::out, read_only, 0, [&](std::uint64_t n) { moved.bytes += n; },
      [&](int status) { moved.status = status; }));
  REQUIRE(child->write_stdin(extra) == 0);
  child->close_stdin();
  loop.run_until([&] { return exit && sink.ended; });
  CHECK(moved.status == UV_EBADF);
  CHECK(moved.bytes == 0);
  CHECK(sink.status == 0);
  CHECK(sink.data == extra); // every byte, read the ordinary way from where the splice stopped
  child->release();
  loop.run();
  ::close(read_only);
  ::close(file);
}
