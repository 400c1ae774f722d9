#pragma once
// The lock file (`$TMPDIR/.lock`) that exec health probes (`-run-healthcheck`) look for. Its
// presence means "listening and healthy": it is written only after the port is bound and
// removed as soon as shutdown starts.

#include <string>

namespace ofwatchdog::lifecycle {

class LockFile {
public:
  explicit LockFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // Creates the directory if needed and an empty file (mode 0660 before umask). Returns an
  // empty string, or the error text.
  std::string write() const;
  // Removes the file. Returns an empty string, or the error text (`remove <path>: <reason>`).
  std::string remove() const;
  // Whether the file exists right now; only ENOENT counts as missing, as in the original.
  bool exists() const;

private:
  std::string path_;
};

} // namespace ofwatchdog::lifecycle
