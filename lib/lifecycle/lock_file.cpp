// These calls are synchronous on purpose: they run at start-up, at the start of shutdown and
// once per health probe (one stat of a tmpfs file), never per function request.
#include "lifecycle/lock_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
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

} // namespace

std::string LockFile::write() const {
  std::size_t slash = path_.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (int err = make_directories(path_.substr(0, slash)); err != 0)
      return fmt::format("mkdir {}: {}", path_.substr(0, slash), std::strerror(err));
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
  if (fd < 0)
    return fmt::format("open {}: {}", path_, std::strerror(errno));
  ::close(fd);
  return {};
}

std::string LockFile::remove() const {
  if (::unlink(path_.c_str()) != 0)
    return fmt::format("remove {}: {}", path_, std::strerror(errno));
  return {};
}

bool LockFile::exists() const {
  struct stat st;
  return ::stat(path_.c_str(), &st) == 0 || errno != ENOENT;
}

} // namespace ofwatchdog::lifecycle
