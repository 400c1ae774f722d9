#include "wasi/sandbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ofwatchdog::wasi {

namespace {

constexpr int kDirectoryOpenFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

std::string describe(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool is_dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

enum class Sweep { emptied, descended, failed };

// Removes the entries of `dir`. Stops at the first directory that is not empty and opens it in
// `child` instead, so the caller walks down one level at a time rather than recursing (a guest
// can nest directories deeper than any stack would like).
Sweep sweep(int dir, OwnedFd& child) {
  int listing_fd = ::openat(dir, ".", kDirectoryOpenFlags);
  if (listing_fd < 0)
    return Sweep::failed;
  DIR* listing = ::fdopendir(listing_fd);
  if (listing == nullptr) {
    ::close(listing_fd);
    return Sweep::failed;
  }
  Sweep result = Sweep::emptied;
  while (dirent* entry = ::readdir(listing)) {
    if (is_dot_or_dotdot(entry->d_name))
      continue;
    if (::unlinkat(dir, entry->d_name, 0) == 0)
      continue;
    if (errno != EISDIR && errno != EPERM) {
      result = Sweep::failed;
      break;
    }
    if (::unlinkat(dir, entry->d_name, AT_REMOVEDIR) == 0)
      continue;
    if (errno != ENOTEMPTY && errno != EEXIST) {
      result = Sweep::failed;
      break;
    }
    int opened = ::openat(dir, entry->d_name, kDirectoryOpenFlags | O_NOFOLLOW);
    if (opened < 0) {
      result = Sweep::failed;
      break;
    }
    child = OwnedFd(opened);
    result = Sweep::descended;
    break;
  }
  ::closedir(listing);
  return result;
}

} // namespace

std::unique_ptr<Sandbox> Sandbox::open(const SandboxSetup& setup, std::string& error) {
  OwnedFd data(::open(setup.data_dir.c_str(), kDirectoryOpenFlags));
  if (!data.valid() && errno != ENOENT && errno != ENOTDIR) {
    error = describe("cannot open the data directory", setup.data_dir);
    return nullptr;
  }
  if (::mkdir(setup.scratch_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = describe("cannot create the scratch directory", setup.scratch_dir);
    return nullptr;
  }
  OwnedFd scratch(::open(setup.scratch_dir.c_str(), kDirectoryOpenFlags | O_NOFOLLOW));
  if (!scratch.valid()) {
    error = describe("cannot open the scratch directory", setup.scratch_dir);
    return nullptr;
  }
  std::unique_ptr<Sandbox> sandbox(new Sandbox(std::move(data), std::move(scratch)));
  // What an earlier process left behind (a crash) must not reach the first request.
  if (!sandbox->reset()) {
    error = describe("cannot empty the scratch directory", setup.scratch_dir);
    return nullptr;
  }
  return sandbox;
}

bool Sandbox::has_data_entry(std::string_view name) const {
  if (!data_.valid())
    return false;
  std::string terminated(name);
  struct stat info;
  return ::fstatat(data_.get(), terminated.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0;
}

bool Sandbox::reset() {
  if (!changed_)
    return true;
  OwnedFd current(::openat(scratch_.get(), ".", kDirectoryOpenFlags));
  if (!current.valid())
    return false;
  int depth = 0;
  for (;;) {
    OwnedFd child;
    switch (sweep(current.get(), child)) {
    case Sweep::failed:
      return false;
    case Sweep::descended:
      current = std::move(child);
      ++depth;
      continue;
    case Sweep::emptied:
      break;
    }
    if (depth == 0) {
      changed_ = false;
      return true;
    }
    // Back up one level; sweeping the parent again removes the directory just emptied. Scratch
    // holds no symlinks (the guest cannot make any), so `..` is the directory we came from.
    OwnedFd parent(::openat(current.get(), "..", kDirectoryOpenFlags));
    if (!parent.valid())
      return false;
    current = std::move(parent);
    --depth;
  }
}

} // namespace ofwatchdog::wasi
