// The pipes and the clone of a function's process; see clone_spawn.hpp.
#include "process/clone_spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ofwatchdog::process {

namespace {

// The size asked for stdin and stdout. Linux's default pipe holds 64 KiB, so `cat` and the
// watchdog take turns every 64 KiB; a larger pipe lets each side move more per system call.
// Unprivileged processes are capped by /proc/sys/fs/pipe-max-size (1 MiB by default) and by a
// per-user total; when the request fails the pipe simply keeps its default size.
constexpr int kPipeSize = 1024 * 1024;

// Moves `fd` above the standard descriptors, so the dup2 onto 0, 1 and 2 in the child can never
// overwrite a pipe end another dup2 still needs (possible when the watchdog runs with one of
// them closed). Returns the descriptor to use, or -1 with errno set.
int above_stdio(int fd) {
  if (fd > 2)
    return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return moved;
}

// What the child needs between the clone and the exec. The child runs in the watchdog's memory
// (CLONE_VM) while the spawning thread waits (CLONE_VFORK), so it reads this from the parent's
// stack and writes its failure back into it.
struct ChildStart {
  const char* path;
  char* const* argv;
  char* const* envp;
  const int* stdio; // the child's ends of the three pipes, all above 2
  pid_t watchdog;   // the watchdog's pid, to notice that it died before the death signal was set
  int error = 0;    // the errno of the step that failed; 0 when the exec succeeded
};

// The signal a function gets when the watchdog's spawning thread ends, which for the loop's
// thread means the watchdog was killed: nobody is left to read its output or to stop it, and a
// function server or a slow function left behind would hold its port and run on unattended.
constexpr int kWatchdogDeathSignal = SIGKILL;

// The child's set-up before its exec; returns 0 or the errno of the step that failed.
__attribute__((no_sanitize("address", "undefined"))) int prepare_child(const ChildStart& start) {
  // The parent blocked every signal before the clone, so none of its handlers can run here;
  // every signal gets its default action (SIGPIPE included, which the watchdog ignores) before
  // the mask is emptied. glibc's own two signals cannot be changed and fail harmlessly.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signum = 1; signum < NSIG; ++signum) {
    if (signum != SIGKILL && signum != SIGSTOP)
      ::sigaction(signum, &default_action, nullptr);
  }
  // A new session, hence a process group of its own that kill_group reaches.
  if (::setsid() < 0)
    return errno;
  for (int i = 0; i < 3; ++i) {
    if (::dup2(start.stdio[i], i) < 0)
      return errno;
  }
  if (::prctl(PR_SET_PDEATHSIG, kWatchdogDeathSignal) != 0)
    return errno;
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  return 0;
}

// Runs in the child until execve. Only async-signal-safe calls are made: the child shares the
// parent's memory, heap locks included. Not instrumented by the sanitizers, whose bookkeeping
// would run in a process that borrows the parent's memory and thread.
__attribute__((no_sanitize("address", "undefined"))) int start_child(void* argument) {
  auto* start = static_cast<ChildStart*>(argument);
  int error = prepare_child(*start);
  if (error == 0) {
    // The watchdog may have died between the clone and the prctl, before there was anything
    // to signal: the child was then handed to another parent and must not start at all. Its
    // exit status goes to that parent; nobody is left to read an error.
    if (::getppid() != start->watchdog)
      ::_exit(127);
    ::execve(start->path, start->argv, start->envp);
    error = errno;
  }
  start->error = error;
  ::_exit(127);
}

// The child's stack. The spawning thread is suspended until the child has exec'd or exited, so
// one stack per thread serves every spawn of that thread; it is made once, on first use.
constexpr std::size_t kChildStackSize = 64 * 1024;
thread_local std::unique_ptr<char[]> child_stack;

} // namespace

int StdioPipes::create() {
  for (int i = 0; i < 3; ++i) {
    int fds[2];
    // Close-on-exec, so that a child spawned for another request never holds these open.
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return -errno;
    int read_end = above_stdio(fds[0]);
    int write_end = above_stdio(fds[1]);
    if (read_end < 0 || write_end < 0) {
      int error = -errno;
      if (read_end >= 0)
        ::close(read_end);
      if (write_end >= 0)
        ::close(write_end);
      return error;
    }
    // stdin: the child reads; stdout and stderr: the child writes.
    ours[i] = i == 0 ? write_end : read_end;
    theirs[i] = i == 0 ? read_end : write_end;
    if (i != 2)
      ::fcntl(ours[i], F_SETPIPE_SZ, kPipeSize); // a failure keeps the default size
  }
  return 0;
}

void StdioPipes::close_theirs() {
  for (int& fd : theirs) {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
}

void StdioPipes::close_all() {
  close_theirs();
  for (int& fd : ours) {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
}

int spawn_with_pipes(pid_t* pid, const std::string& path, char* const* argv, char* const* envp,
                     const StdioPipes& pipes) {
  if (!child_stack)
    child_stack = std::make_unique<char[]>(kChildStackSize);
  ChildStart start{path.c_str(), argv, envp, pipes.theirs, ::getpid()};
  // No handler of ours may run in the child, which would run it on our memory before its
  // actions are reset: every signal is held until the child has exec'd.
  sigset_t all;
  sigset_t saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  // The stack grows down: the child starts at the top of its buffer, 16-byte aligned.
  char* top = child_stack.get() + kChildStackSize;
  top -= reinterpret_cast<std::uintptr_t>(top) & 15;
  int child = ::clone(&start_child, top, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (child < 0)
    return clone_error;
  if (start.error != 0) {
    // The child has exited (CLONE_VFORK returns only then, or after a successful exec); it is
    // not tracked by the reaper, so it is collected here.
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return start.error;
  }
  *pid = child;
  return 0;
}

} // namespace ofwatchdog::process
