// fd_close, fd_renumber, fd_sync, fd_fdstat_*, fd_filestat_*, fd_prestat_*: descriptors
// themselves rather than the bytes behind them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "wasi/host.hpp"
#include "wasi/host_errno.hpp"
#include "wasi/host_stat.hpp"

namespace ofwatchdog::wasi {

namespace {

using Errno = abi::Errno;

// The name fd_prestat_dir_name reports for the preopen: wasi-libc matches absolute paths
// against it, so the guest's "/x" becomes "x" beneath fd 3.
constexpr std::string_view kPreopenName = "/";

} // namespace

Host::Errno Host::fd_close(std::uint32_t fd) {
  return descriptors_.close(fd) ? Errno::success : Errno::badf;
}

Host::Errno Host::fd_renumber(std::uint32_t from, std::uint32_t to) {
  return descriptors_.renumber(from, to) ? Errno::success : Errno::badf;
}

// fd_sync and fd_datasync: nothing of a request outlives it, so there is nothing to make durable.
Host::Errno Host::fd_sync(std::uint32_t fd) {
  return descriptors_.find(fd) != nullptr ? Errno::success : Errno::badf;
}

Host::Errno Host::fd_fdstat_get(const GuestView& memory, std::uint32_t fd,
                                std::uint32_t result_ptr) {
  const Descriptor* descriptor = descriptors_.find(fd);
  if (descriptor == nullptr)
    return Errno::badf;
  abi::Fdstat stat{};
  stat.fs_filetype = descriptor->filetype;
  stat.fs_flags = descriptor->fdflags;
  stat.fs_rights_base = descriptor->rights_base;
  stat.fs_rights_inheriting = descriptor->rights_inheriting;
  return memory.store(result_ptr, stat) ? Errno::success : Errno::fault;
}

Host::Errno Host::fd_fdstat_set_flags(std::uint32_t fd, std::uint32_t flags) {
  Descriptor* descriptor = descriptors_.find(fd);
  if (descriptor == nullptr)
    return Errno::badf;
  if (!descriptor->allows(abi::right::fd_fdstat_set_flags))
    return Errno::notcapable;
  constexpr std::uint32_t kSyncFlags = abi::kFdflagDsync | abi::kFdflagRsync | abi::kFdflagSync;
  constexpr std::uint32_t kKnown = abi::kFdflagAppend | abi::kFdflagNonblock | kSyncFlags;
  if ((flags & ~kKnown) != 0)
    return Errno::inval;
  // The synchronised-I/O flags would promise durability nothing here has.
  if ((flags & kSyncFlags) != 0)
    return Errno::notsup;
  if ((flags & abi::kFdflagAppend) != 0 && descriptor->is_directory())
    return Errno::badf;
  if (descriptor->kind == Descriptor::Kind::file) {
    int host = descriptor->host.get();
    int current = ::fcntl(host, F_GETFL);
    if (current < 0)
      return to_wasi_errno(errno);
    int wanted = (flags & abi::kFdflagAppend) != 0 ? (current | O_APPEND) : (current & ~O_APPEND);
    if (wanted != current && ::fcntl(host, F_SETFL, wanted) != 0)
      return to_wasi_errno(errno);
  }
  // NONBLOCK is the host's to honour: stdin answers EAGAIN instead of waiting; files and
  // directories never wait anyway.
  descriptor->fdflags = static_cast<std::uint16_t>(flags);
  return Errno::success;
}

Host::Errno Host::fd_filestat_get(const GuestView& memory, std::uint32_t fd,
                                  std::uint32_t result_ptr) {
  const Descriptor* descriptor = descriptors_.find(fd);
  if (descriptor == nullptr)
    return Errno::badf;
  if (!descriptor->allows(abi::right::fd_filestat_get))
    return Errno::notcapable;
  if (!memory.contains(result_ptr, sizeof(abi::Filestat)))
    return Errno::fault;
  abi::Filestat stat{};
  if (descriptor->is_stream()) {
    stat.filetype = descriptor->filetype;
  } else {
    // The root stands for both layers; its own metadata is the scratch directory's.
    int host =
        descriptor->kind == Descriptor::Kind::root ? sandbox_.scratch_fd() : descriptor->host.get();
    struct stat info;
    if (::fstat(host, &info) != 0)
      return to_wasi_errno(errno);
    stat = filestat_of(info);
  }
  memory.store(result_ptr, stat);
  return Errno::success;
}

Host::Errno Host::fd_filestat_set_size(std::uint32_t fd, std::uint64_t size) {
  Descriptor* descriptor = descriptors_.find(fd);
  if (descriptor == nullptr || descriptor->is_directory())
    return Errno::badf;
  if (descriptor->is_stream())
    return Errno::inval;
  if (!descriptor->allows(abi::right::fd_filestat_set_size))
    return Errno::notcapable;
  if (size > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()))
    return Errno::fbig;
  if (::ftruncate(descriptor->host.get(), static_cast<off_t>(size)) != 0)
    return to_wasi_errno(errno);
  return Errno::success;
}

Host::Errno Host::fd_prestat_get(const GuestView& memory, std::uint32_t fd,
                                 std::uint32_t result_ptr) {
  const Descriptor* descriptor = descriptors_.find(fd);
  if (descriptor == nullptr || !descriptor->preopen)
    return Errno::badf;
  abi::Prestat prestat{};
  prestat.tag = abi::kPreopenTypeDir;
  prestat.pr_name_len = static_cast<std::uint32_t>(kPreopenName.size());
  return memory.store(result_ptr, prestat) ? Errno::success : Errno::fault;
}

Host::Errno Host::fd_prestat_dir_name(const GuestView& memory, std::uint32_t fd, std::uint32_t path,
                                      std::uint32_t path_len) {
  const Descriptor* descriptor = descriptors_.find(fd);
  if (descriptor == nullptr || !descriptor->preopen)
    return Errno::badf;
  if (!memory.contains(path, path_len))
    return Errno::fault;
  if (path_len < kPreopenName.size())
    return Errno::nametoolong;
  memory.store_bytes(path, kPreopenName.data(), kPreopenName.size());
  return Errno::success;
}

} // namespace ofwatchdog::wasi
