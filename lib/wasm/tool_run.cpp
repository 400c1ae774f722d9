#include "wasm/tool_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace ofwatchdog::wasm {

void ToolCancel::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  if (group_ > 0)
    kill(-group_, SIGKILL);
}

bool ToolCancel::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

// run_tool's side of ToolCancel: it names the running group, which `cancel` kills.
struct ToolCancelAccess {
  // False when the compile was cancelled already: the tool must not start.
  static bool may_start(ToolCancel* cancel) { return cancel == nullptr || !cancel->cancelled(); }
  static void started(ToolCancel* cancel, pid_t group) {
    if (cancel == nullptr)
      return;
    std::lock_guard lock(cancel->mutex_);
    cancel->group_ = group;
    if (cancel->cancelled_) // cancelled between may_start and the spawn
      kill(-group, SIGKILL);
  }
  // Called once the tool has exited but before it is reaped, so its pid (the group's id)
  // cannot have been reused when `cancel` kills it.
  static void ended(ToolCancel* cancel) {
    if (cancel == nullptr)
      return;
    std::lock_guard lock(cancel->mutex_);
    cancel->group_ = 0;
  }
};

ToolResult run_tool(const std::vector<std::string>& argv, const std::string& directory,
                    ToolCancel* cancel) {
  ToolResult result;
  if (!ToolCancelAccess::may_start(cancel)) {
    result.output = "cancelled";
    return result;
  }
  int pipe_ends[2];
  if (pipe2(pipe_ends, O_CLOEXEC) != 0) {
    result.output = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], 2);
  if (!directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, directory.c_str());
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  // A group of its own, so that a cancel reaches the compiler's own children (cc1, as, ld).
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  int error = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_ends[1]);
  if (error != 0) {
    close(pipe_ends[0]);
    result.output = argv[0] + ": " + std::strerror(error);
    return result;
  }
  result.started = true;
  ToolCancelAccess::started(cancel, pid);
  char buffer[4096];
  while (true) {
    ssize_t got = read(pipe_ends[0], buffer, sizeof buffer);
    if (got > 0) {
      result.output.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipe_ends[0]);
  siginfo_t exited{};
  while (waitid(P_PID, static_cast<id_t>(pid), &exited, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  ToolCancelAccess::ended(cancel);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (WIFSIGNALED(status)) {
    result.output += "\n(killed by signal " + std::to_string(WTERMSIG(status)) + ")";
  }
  return result;
}

std::string tool_failure(const std::string& tool, const ToolResult& result) {
  std::string output = result.output;
  if (output.size() > 4000) {
    output = output.substr(0, 4000) + "\n...";
  }
  if (!result.started) {
    return fmt::format("cannot run {}: {}", tool, output);
  }
  return fmt::format("{} failed (exit status {}): {}", tool, result.exit_status, output);
}

} // namespace ofwatchdog::wasm
