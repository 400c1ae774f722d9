// The posix_spawn path of ChildProcess and its reaper: many children at once, exit codes and
// signals, no zombies, a process libuv spawned in the same loop, the child's signal state and
// session, and the PATH cache.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "process/child_process.hpp"
#include "process/child_reaper.hpp"
#include "test_loop.hpp"

using namespace ofwatchdog::process;
using ofwatchdog::testing::TestLoop;

namespace {

std::vector<std::string> base_env() {
  return {"PATH=/usr/bin:/bin"};
}

struct Collector : OutputSink {
  std::string data;
  bool ended = false;
  void on_output(std::string_view d) override { data.append(d); }
  void on_output_end(int) override { ended = true; }
};

// The children of this process that are zombies (state Z), from /proc.
std::vector<int> zombie_children() {
  std::vector<int> zombies;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr)
    return zombies;
  std::string self = std::to_string(::getpid());
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
      continue;
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto paren = all.rfind(')');
    if (paren == std::string::npos)
      continue;
    std::istringstream rest(all.substr(paren + 2));
    std::string state, ppid;
    rest >> state >> ppid;
    if (ppid == self && state == "Z")
      zombies.push_back(std::atoi(entry->d_name));
  }
  ::closedir(proc);
  return zombies;
}

// A field of /proc/<pid>/status, e.g. "SigBlk".
std::string status_field(int pid, const std::string& name) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(name + ":", 0) == 0)
      return line.substr(name.size() + 2);
  }
  return {};
}

} // namespace

TEST_CASE("decode turns wait statuses into exit codes and signals", "[child_reaper]") {
  ExitStatus exited = ChildReaper::decode(W_EXITCODE(3, 0));
  CHECK(exited.exit_status == 3);
  CHECK(exited.term_signal == 0);
  ExitStatus killed = ChildReaper::decode(W_EXITCODE(0, SIGKILL));
  CHECK(killed.term_signal == SIGKILL);
  CHECK_FALSE(killed.core_dumped);
  ExitStatus aborted = ChildReaper::decode(W_EXITCODE(0, SIGABRT) | WCOREFLAG);
  CHECK(aborted.term_signal == SIGABRT);
  CHECK(aborted.core_dumped);
  CHECK(exit_error_text(aborted) == "signal: aborted (core dumped)");
}

TEST_CASE("many concurrent children are all reaped with their own status", "[child_reaper]") {
  TestLoop loop;
  constexpr int kChildren = 40;
  std::map<int, ExitStatus> statuses; // by index
  std::vector<ChildProcess*> children;
  for (int i = 0; i < kChildren; ++i) {
    // Every third child dies of a signal, the others exit with their index.
    std::string script = i % 3 == 0 ? "kill -TERM $$" : "exit " + std::to_string(i);
    auto spawned = ChildProcess::spawn(loop.get(), {{"sh", "-c", script}, base_env()},
                                       [&statuses, i](const ExitStatus& s) { statuses[i] = s; });
    REQUIRE(spawned.child != nullptr);
    children.push_back(spawned.child);
  }
  loop.run_until([&] { return statuses.size() == kChildren; }, 20);
  for (int i = 0; i < kChildren; ++i) {
    INFO("child " << i);
    if (i % 3 == 0) {
      CHECK(statuses[i].term_signal == SIGTERM);
      CHECK(exit_error_text(statuses[i]) == "signal: terminated");
    } else {
      CHECK(statuses[i].exit_status == i);
      CHECK(statuses[i].term_signal == 0);
    }
  }
  for (ChildProcess* child : children)
    child->release();
  loop.run();
  CHECK(zombie_children().empty());
}

TEST_CASE("children released before they exit are reaped, none left a zombie", "[child_reaper]") {
  TestLoop loop;
  int closed = 0;
  std::vector<int> pids;
  for (int i = 0; i < 10; ++i) {
    auto spawned = ChildProcess::spawn(loop.get(), {{"sleep", "0.1"}, base_env()}, nullptr);
    REQUIRE(spawned.child != nullptr);
    pids.push_back(spawned.child->pid());
    spawned.child->release([&] { ++closed; });
  }
  loop.run(); // the tracked children keep the loop alive until they are reaped
  CHECK(closed == 10);
  for (int pid : pids)
    CHECK(::kill(pid, 0) != 0);
  CHECK(zombie_children().empty());
}

TEST_CASE("a process libuv spawned in the same loop keeps its own exit status", "[child_reaper]") {
  TestLoop loop;
  struct UvChild {
    uv_process_t handle{};
    std::optional<std::int64_t> status;
  } uv_child;
  char arg0[] = "sh", arg1[] = "-c", arg2[] = "sleep 0.2; exit 7";
  char* args[] = {arg0, arg1, arg2, nullptr};
  uv_process_options_t options{};
  options.file = "sh";
  options.args = args;
  options.exit_cb = [](uv_process_t* p, int64_t status, int) {
    static_cast<UvChild*>(p->data)->status = status;
    uv_close(reinterpret_cast<uv_handle_t*>(p), nullptr);
  };
  uv_child.handle.data = &uv_child;
  REQUIRE(uv_spawn(loop.get(), &uv_child.handle, &options) == 0);

  std::vector<int> ours;
  std::vector<ChildProcess*> children;
  for (int i = 0; i < 5; ++i) {
    auto spawned = ChildProcess::spawn(
        loop.get(), {{"sh", "-c", "exit 3"}, base_env()},
        [&](const ExitStatus& s) { ours.push_back(static_cast<int>(s.exit_status)); });
    REQUIRE(spawned.child != nullptr);
    children.push_back(spawned.child);
  }
  loop.run_until([&] { return ours.size() == 5 && uv_child.status.has_value(); });
  CHECK(ours == std::vector<int>(5, 3));
  CHECK(*uv_child.status == 7);
  for (ChildProcess* child : children)
    child->release();
  loop.run();
}

TEST_CASE("the child has a clean signal state and its own session", "[child_reaper]") {
  // The watchdog ignores SIGPIPE and a thread may block signals; neither may reach the child.
  auto previous = std::signal(SIGPIPE, SIG_IGN);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  TestLoop loop;
  std::optional<ExitStatus> exit;
  auto spawned = ChildProcess::spawn(loop.get(), {{"sleep", "60"}, base_env()},
                                     [&](const ExitStatus& s) { exit = s; });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  std::signal(SIGPIPE, previous);
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  int pid = child->pid();
  // sleep has started once /proc shows it (the spawn returns after the exec).
  CHECK(status_field(pid, "SigBlk") == "0000000000000000");
  unsigned long long ignored = std::stoull(status_field(pid, "SigIgn"), nullptr, 16);
  CHECK((ignored & (1ull << (SIGPIPE - 1))) == 0);
  CHECK(::getsid(pid) == pid);
  CHECK(::getpgid(pid) == pid);
  child->kill_group(SIGKILL);
  loop.run_until([&] { return exit.has_value(); });
  child->release();
  loop.run();
}

TEST_CASE("a function writing to a closed stdout dies of SIGPIPE", "[child_reaper]") {
  auto previous = std::signal(SIGPIPE, SIG_IGN);
  TestLoop loop;
  std::optional<ExitStatus> exit;
  Collector err;
  // The shell waits for stdin's EOF, then writes to stdout, which is closed by then. With
  // SIGPIPE ignored it would get EPIPE and go on to say so on stderr.
  auto spawned = ChildProcess::spawn(
      loop.get(), {{"sh", "-c", "cat >/dev/null; echo hello; echo survived >&2"}, base_env()},
      [&](const ExitStatus& s) { exit = s; });
  std::signal(SIGPIPE, previous);
  REQUIRE(spawned.child != nullptr);
  ChildProcess* child = spawned.child;
  child->read_output(Stdio::err, &err);
  child->close_pipe(Stdio::out);
  child->close_stdin();
  loop.run_until([&] { return exit.has_value() && err.ended; });
  CHECK(exit->term_signal == SIGPIPE);
  CHECK(exit_error_text(*exit) == "signal: broken pipe");
  CHECK(err.data.empty());
  child->release();
  loop.run();
}

TEST_CASE("a remembered PATH lookup is forgotten when the program goes away", "[child_reaper]") {
  char dir[] = "/tmp/ofwatchdog-path-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string program = std::string(dir) + "/fn";
  {
    std::ofstream script(program);
    script << "#!/bin/sh\nexit 0\n";
  }
  ::chmod(program.c_str(), 0755);
  std::vector<std::string> env = {std::string("PATH=") + dir};
  TestLoop loop;
  bool exited = false;
  auto first = ChildProcess::spawn(loop.get(), {{"fn"}, env},
                                   [&](const ExitStatus& s) { exited = s.success(); });
  REQUIRE(first.child != nullptr);
  loop.run_until([&] { return exited; });
  first.child->release();
  CHECK(resolve_program("fn", env).path == program);

  ::unlink(program.c_str());
  // The remembered path is tried and fails like any missing path...
  auto second = ChildProcess::spawn(loop.get(), {{"fn"}, env}, nullptr);
  CHECK(second.child == nullptr);
  CHECK(second.error == "fork/exec " + program + ": no such file or directory");
  // ...and forgotten, so the next request searches PATH again.
  auto third = ChildProcess::spawn(loop.get(), {{"fn"}, env}, nullptr);
  CHECK(third.child == nullptr);
  CHECK(third.error == "exec: \"fn\": executable file not found in $PATH");
  ::rmdir(dir);
  loop.run();
}

TEST_CASE("a script without #! fails with exec format error, as in the original",
          "[child_reaper]") {
  char path[] = "/tmp/ofwatchdog-noshebang-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "exit 0\n", 7) == 7);
  ::close(fd);
  ::chmod(path, 0755);
  TestLoop loop;
  auto spawned = ChildProcess::spawn(loop.get(), {{path}, base_env()}, nullptr);
  ::unlink(path);
  CHECK(spawned.child == nullptr);
  CHECK(spawned.error == std::string("fork/exec ") + path + ": exec format error");
  loop.run();
}
