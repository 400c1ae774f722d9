#include "wasi/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "wasi/host_errno.hpp"

namespace ofwatchdog::wasi {

OpenResult open_beneath(int dir, const std::string& path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  // openat2 refuses a mode without O_CREAT or O_TMPFILE.
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    // glibc 2.36 has no wrapper for openat2.
    fd = ::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  OpenResult result;
  if (fd >= 0)
    result.fd = OwnedFd(static_cast<int>(fd));
  else
    result.error = errno == EXDEV ? abi::Errno::notcapable : to_wasi_errno(errno);
  return result;
}

} // namespace ofwatchdog::wasi
