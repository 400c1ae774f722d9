#pragma once
// From a guest's (directory descriptor, path) to a host directory and a path beneath it.
//
// Beneath a directory the guest opened, the path stays in that directory's layer and the kernel
// keeps it there (beneath.hpp). From the preopened `/` there is no host directory yet: leading
// "." and empty components are skipped, a leading ".." or '/' is refused (ENOTCAPABLE), and the
// first real component picks the layer (sandbox.hpp). What is left of the path, that component
// included, is resolved beneath the layer's directory.

#include <cstdint>
#include <string>

#include "util/owned_fd.hpp"
#include "wasi/abi.hpp"
#include "wasi/descriptor_table.hpp"
#include "wasi/guest_view.hpp"
#include "wasi/sandbox.hpp"

namespace ofwatchdog::wasi {

// Copies a guest path out of memory: EFAULT outside memory, ENAMETOOLONG beyond `max_bytes`,
// EILSEQ for a NUL inside (the host's calls would cut the path there).
abi::Errno read_guest_path(const GuestView& memory, std::uint32_t ptr, std::uint32_t len,
                           std::uint32_t max_bytes, std::string& path);

struct ResolvedPath {
  abi::Errno error = abi::Errno::success;
  Layer layer = Layer::scratch;
  int base = -1;           // host directory (borrowed from the descriptor or the sandbox)
  std::string path;        // beneath `base`; never empty
  bool names_root = false; // the path is the guest's `/` itself (base and path unset)
};

// `directory` must be a directory descriptor (root or directory).
ResolvedPath resolve_path(const Descriptor& directory, const std::string& path,
                          const Sandbox& sandbox);

// The directory holding a resolved path's last component, opened beneath its base, and that
// component (trailing slashes kept, so the kernel still insists on a directory). For the calls
// that act on a name rather than open it: mkdirat, unlinkat, renameat.
struct ParentAndName {
  abi::Errno error = abi::Errno::success;
  OwnedFd parent;
  std::string name;
};
ParentAndName open_parent(const ResolvedPath& resolved);

} // namespace ofwatchdog::wasi
