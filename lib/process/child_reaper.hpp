#pragma once
// Reaps the children that `ChildProcess` starts with posix_spawn (libuv reaps only the processes
// it started itself with uv_spawn, through their uv_process_t handles).
//
// There is at most one reaper per loop. It owns a uv_signal_t on SIGCHLD and, when the signal
// arrives, calls waitpid(pid, WNOHANG) for each pid it tracks and nothing else: never
// waitpid(-1), which would steal the exit status of a process libuv started (the http mode's
// function server) and leave its uv_process_t waiting forever.
//
// The signal handle is started *before* the child is spawned (`acquire`), so a child that exits
// at once cannot slip between the spawn and the registration. The reaper closes its handle and
// frees itself when it tracks nothing any more, so a loop without running children has no
// handle of ours open (uv_loop_close succeeds) and a running child keeps the loop alive, as a
// uv_process_t did.
//
//   ChildReaper* reaper = ChildReaper::acquire(loop);
//   pid_t pid = ...posix_spawn...;
//   if (failed) reaper->release_if_idle(); else reaper->track(pid, this);

#include <sys/types.h>

#include <unordered_map>

#include <uv.h>

#include "process/process_error.hpp"

namespace ofwatchdog::process {

// Told once when its pid has been reaped.
class ReapListener {
public:
  virtual void on_reaped(const ExitStatus& status) = 0;

protected:
  ~ReapListener() = default;
};

class ChildReaper {
public:
  // The loop's reaper, created with its SIGCHLD handle started if there is none.
  static ChildReaper* acquire(uv_loop_t* loop);

  // Watches `pid` (a child of this process) until it exits; `listener` must live until then.
  void track(pid_t pid, ReapListener* listener);
  // Closes the reaper if it tracks nothing, e.g. after a spawn that failed.
  void release_if_idle();

  std::size_t tracked() const { return listeners_.size(); }

  // The exit status of a waitpid() status word.
  static ExitStatus decode(int wait_status);

  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

private:
  explicit ChildReaper(uv_loop_t* loop);
  ~ChildReaper() = default;

  void reap();
  void close();

  uv_loop_t* loop_;
  uv_signal_t signal_{};
  std::unordered_map<pid_t, ReapListener*> listeners_;
  bool reaping_ = false;
};

} // namespace ofwatchdog::process
