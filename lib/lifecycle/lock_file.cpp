// These calls are synchronous on purpose: they run at start-up, at the start of shutdown and
// once per health probe (one stat of a tmpfs file), never per function request.
#include "lifecycle/lock_file.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ofwatchdog::lifecycle {

namespace {

// mkdir -p with mode 0777 (before umask), as the original creates the lock's directory.
int make_directories(const std::string& dir) {
  if (dir.empty())
    return 0;
  std::string partial;
  std::size_t start = 0;
  while (start <= dir.size()) {
    std::size_t slash = dir.find('/', start);
    if (slash == std::string::npos)
      slash = dir.size();
    partial = dir.substr(0, slash);
    if (!partial.empty() && ::mkdir(partial.c_str(), 0777) != 0 && errno != EEXIST)
      return errno;
    start = slash + 1;
  }
  return 0;
}

bool process_alive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

std::optional<struct stat> stat_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return std::nullopt;
  return st;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Calls `visit(holder, path)` for each `<lock>.<digits>` beside the lock file.
template <typename Visit> void for_each_holder(const std::string& lock, Visit visit) {
  std::size_t slash = lock.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : lock.substr(0, slash));
  std::string prefix = (slash == std::string::npos ? lock : lock.substr(slash + 1)) + ".";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr)
    return;
  while (const dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix)
      continue;
    std::string_view digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    visit(std::stol(std::string(digits)), fmt::format("{}/{}", dir, name));
  }
  ::closedir(d);
}

} // namespace

LockFile::LockFile(std::string path, long holder)
    : path_(std::move(path)), holder_(holder >= 0 ? holder : static_cast<long>(::getpid())) {}

std::string LockFile::holder_path(long holder) const {
  return fmt::format("{}.{}", path_, holder);
}

void LockFile::sweep_stale_holders() const {
  for_each_holder(path_, [this](long holder, const std::string& link) {
    if (holder == holder_ || !process_alive(holder))
      ::unlink(link.c_str());
  });
}

bool LockFile::other_live_holder() const {
  std::optional<struct stat> lock = stat_of(path_);
  if (!lock)
    return false;
  bool found = false;
  for_each_holder(path_, [&](long holder, const std::string& link) {
    if (found || holder == holder_ || !process_alive(holder))
      return;
    std::optional<struct stat> st = stat_of(link);
    found = st && same_file(*st, *lock);
  });
  return found;
}

std::string LockFile::write() {
  std::size_t slash = path_.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (int err = make_directories(path_.substr(0, slash)); err != 0)
      return fmt::format("mkdir {}: {}", path_.substr(0, slash), std::strerror(err));
  }
  // This holder's name from an earlier run, and the names of holders that died, go first: the
  // file they point at is healthy only while a live holder keeps it.
  sweep_stale_holders();
  std::string mine = holder_path(holder_);
  if (other_live_holder() && ::link(path_.c_str(), mine.c_str()) == 0) {
    std::optional<struct stat> st = stat_of(mine);
    if (st) {
      held_ = true;
      device_ = st->st_dev;
      inode_ = st->st_ino;
      return {};
    }
  }
  // No live holder: a new file, made under this holder's name and renamed into place, so a
  // probe never sees it half-made and a stale file is replaced in one step.
  int fd = ::open(mine.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
  if (fd < 0)
    return fmt::format("open {}: {}", mine, std::strerror(errno));
  struct stat st {};
  bool stated = ::fstat(fd, &st) == 0;
  int stat_errno = errno;
  ::close(fd);
  std::string staging = mine + ".new";
  ::unlink(staging.c_str());
  if (!stated || ::link(mine.c_str(), staging.c_str()) != 0 ||
      ::rename(staging.c_str(), path_.c_str()) != 0) {
    int err = stated ? errno : stat_errno;
    ::unlink(staging.c_str());
    ::unlink(mine.c_str());
    return fmt::format("write {}: {}", path_, std::strerror(err));
  }
  held_ = true;
  device_ = st.st_dev;
  inode_ = st.st_ino;
  return {};
}

bool LockFile::holds_path() const {
  std::optional<struct stat> st = stat_of(path_);
  return held_ && st && st->st_dev == device_ && st->st_ino == inode_;
}

bool LockFile::last_holder() const {
  return holds_path() && !other_live_holder();
}

std::string LockFile::release() {
  if (!held_)
    return {};
  bool last = last_holder();
  std::string mine = holder_path(holder_);
  if (std::optional<struct stat> st = stat_of(mine);
      st && st->st_dev == device_ && st->st_ino == inode_)
    ::unlink(mine.c_str());
  held_ = false;
  if (last && ::unlink(path_.c_str()) != 0)
    return fmt::format("remove {}: {}", path_, std::strerror(errno));
  return {};
}

bool LockFile::exists() const {
  struct stat st;
  return ::stat(path_.c_str(), &st) == 0 || errno != ENOENT;
}

} // namespace ofwatchdog::lifecycle
