#pragma once
// Opening a path strictly beneath a host directory: the one way the host resolves a guest path.
//
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) makes the kernel refuse, during the walk
// itself, any step that would leave `dir`: a `..` above it, an absolute path, a symlink whose
// target is absolute or climbs out, and /proc-style magic links. There is no window between a
// check and the use of a path. The kernel's EXDEV for such a step is reported as ENOTCAPABLE.

#include <sys/types.h>

#include <string>

#include "util/owned_fd.hpp"
#include "wasi/abi.hpp"

namespace ofwatchdog::wasi {

struct OpenResult {
  OwnedFd fd;
  abi::Errno error = abi::Errno::success;
};

// `flags` are open(2) flags (O_CLOEXEC is added); `mode` is used only with O_CREAT.
OpenResult open_beneath(int dir, const std::string& path, int flags, mode_t mode = 0);

} // namespace ofwatchdog::wasi
