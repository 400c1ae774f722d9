// Reaping posix_spawn'ed children on the loop; see child_reaper.hpp.
#include "process/child_reaper.hpp"

#include <sys/wait.h>

#include "util/invariant.hpp"
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <utility>
#include <vector>

namespace ofwatchdog::process {

namespace {

// One reaper per loop. A loop is only ever used from one thread, so each thread keeps the
// reapers of its own loops.
thread_local std::unordered_map<uv_loop_t*, ChildReaper*> reapers;

} // namespace

ChildReaper::ChildReaper(uv_loop_t* loop) : loop_(loop) {}

ChildReaper* ChildReaper::acquire(uv_loop_t* loop) {
  auto found = reapers.find(loop);
  if (found != reapers.end())
    return found->second;
  auto* reaper = new ChildReaper(loop);
  uv_signal_init(loop, &reaper->signal_);
  reaper->signal_.data = reaper;
  int rc = uv_signal_start(
      &reaper->signal_,
      [](uv_signal_t* handle, int) { static_cast<ChildReaper*>(handle->data)->reap(); }, SIGCHLD);
  // Only EINVAL is possible, and SIGCHLD is valid.
  OFW_INVARIANT(rc == 0, "the SIGCHLD watcher did not start");
  reapers.emplace(loop, reaper);
  return reaper;
}

void ChildReaper::track(pid_t pid, ReapListener* listener) {
  listeners_[pid] = listener;
}

void ChildReaper::release_if_idle() {
  if (listeners_.empty() && !reaping_)
    close();
}

ExitStatus ChildReaper::decode(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.exit_status = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.term_signal = WTERMSIG(wait_status);
    status.core_dumped = WCOREDUMP(wait_status);
  }
  return status;
}

void ChildReaper::reap() {
  // Signals coalesce: one SIGCHLD may stand for several exits, so every tracked pid is asked.
  std::vector<std::pair<ReapListener*, ExitStatus>> done;
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    int wait_status = 0;
    pid_t rc;
    do
      rc = ::waitpid(it->first, &wait_status, WNOHANG);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ++it;
      continue;
    }
    // rc < 0 (ECHILD) means someone else reaped it; its status is lost, so report a kill
    // rather than leave its owner waiting forever.
    ExitStatus status = rc > 0 ? decode(wait_status) : ExitStatus{0, SIGKILL, false};
    done.emplace_back(it->second, status);
    it = listeners_.erase(it);
  }
  // The listeners may spawn (track) or release children; none is freed before its own reap.
  reaping_ = true;
  for (auto& [listener, status] : done)
    listener->on_reaped(status);
  reaping_ = false;
  release_if_idle();
}

void ChildReaper::close() {
  reapers.erase(loop_);
  uv_close(reinterpret_cast<uv_handle_t*>(&signal_),
           [](uv_handle_t* handle) { delete static_cast<ChildReaper*>(handle->data); });
}

} // namespace ofwatchdog::process
