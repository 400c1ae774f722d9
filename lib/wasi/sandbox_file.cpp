// read_sandbox_file: see sandbox_file.hpp.
#include "wasi/sandbox_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "wasi/beneath.hpp"
#include "wasi/descriptor_table.hpp"
#include "wasi/host_errno.hpp"
#include "wasi/path_resolver.hpp"

namespace ofwatchdog::wasi {

std::variant<std::string, abi::Errno>
read_sandbox_file(const Sandbox& sandbox, std::string_view path, std::uint64_t limit) {
  // A guest program names "/data/k.ptx" or "k.ptx"; wasi-libc hands both to the host relative
  // to the preopened `/`.
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  Descriptor root;
  root.kind = Descriptor::Kind::root;
  ResolvedPath resolved = resolve_path(root, std::string(path), sandbox);
  if (resolved.error != abi::Errno::success)
    return resolved.error;
  if (resolved.names_root)
    return abi::Errno::isdir;
  OpenResult opened = open_beneath(resolved.base, resolved.path, O_RDONLY);
  if (opened.error != abi::Errno::success)
    return opened.error;
  struct stat st {};
  if (::fstat(opened.fd.get(), &st) != 0)
    return to_wasi_errno(errno);
  if (S_ISDIR(st.st_mode))
    return abi::Errno::isdir;
  if (!S_ISREG(st.st_mode))
    return abi::Errno::inval;
  if (static_cast<std::uint64_t>(st.st_size) > limit)
    return abi::Errno::fbig;
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::read(opened.fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n == 0 ? abi::Errno::io : to_wasi_errno(errno);
    got += static_cast<std::size_t>(n);
  }
  return bytes;
}

} // namespace ofwatchdog::wasi
