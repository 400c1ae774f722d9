#pragma once
// The lock file (`$TMPDIR/.lock`) that exec health probes (`-run-healthcheck`) look for. Its
// presence means "listening and healthy": it is written only after the ports are bound and
// removed as soon as shutdown starts.
//
// Several watchdogs may share the directory (two functions in one container, or `fwatchdog`
// run by hand beside a running one), so the file is shared, not owned: each watchdog that holds
// it keeps a hard link of its own, `.lock.<pid>`, to the same file, and removes `.lock` only
// when it is the last live holder. A watchdog whose start fails never touches the file; one
// that stops never turns another unhealthy. A holder link left by a process that died (or by
// an earlier run under the same pid, as after a container restart) is stale and swept away.

#include <sys/types.h>

#include <string>

namespace ofwatchdog::lifecycle {

class LockFile {
public:
  // `holder` names this process's link; the pid by default (tests use others).
  explicit LockFile(std::string path, long holder = -1);

  const std::string& path() const { return path_; }

  // Creates the directory if needed, then joins the file live holders keep, or writes a new
  // empty one (mode 0660 before umask) in place of a stale one. Returns an empty string, or
  // the error text.
  std::string write();
  // Leaves the file: drops this holder's link, and removes `.lock` when no live holder is left.
  // Returns an empty string, or the error text (`remove <path>: <reason>`).
  std::string release();
  // Whether removing `.lock` is this holder's to do now (it holds it and no other live holder
  // does): what release() would do, for the log line before it.
  bool last_holder() const;
  // Whether the file exists right now; only ENOENT counts as missing, as in the original.
  bool exists() const;

private:
  std::string holder_path(long holder) const;
  // Whether the file at the path is the one this object holds.
  bool holds_path() const;
  // Removes holder links whose process is gone, and this holder's own name (an earlier run).
  void sweep_stale_holders() const;
  // Whether a live holder other than this one links to the file at `path_`.
  bool other_live_holder() const;

  std::string path_;
  long holder_;
  bool held_ = false;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

} // namespace ofwatchdog::lifecycle
