#pragma once
// Starting a function's process: its three pipes and the clone that execs it.

#include <sys/types.h>

#include <string>

namespace ofwatchdog::process {

// The three pipes of a child: `ours[i]` stays here, `theirs[i]` becomes the child's fd i.
struct StdioPipes {
  int ours[3] = {-1, -1, -1};
  int theirs[3] = {-1, -1, -1};

  // Makes the three pipes, close-on-exec and above the standard descriptors, stdin's and
  // stdout's enlarged when the kernel allows. Returns 0 or a negative errno.
  int create();
  void close_theirs();
  void close_all();
};

// Starts `path` with its stdio on `pipes`, in a new session, with an empty signal mask, every
// signal at its default action and the watchdog's death signal set. This is what posix_spawn
// did, plus the death signal, which posix_spawn has no attribute for: the same
// clone(CLONE_VM|CLONE_VFORK) glibc uses, so no page table is copied. Returns 0 or an errno
// value, the exec's own failure included.
int spawn_with_pipes(pid_t* pid, const std::string& path, char* const* argv, char* const* envp,
                     const StdioPipes& pipes);

} // namespace ofwatchdog::process
