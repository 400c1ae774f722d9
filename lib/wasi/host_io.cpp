// fd_read, fd_write, fd_pread, fd_pwrite, fd_seek, fd_tell: moving bytes through descriptors.
//
// The streams go to Stdio straight from guest memory; files go to the host with readv/writev.
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "wasi/host.hpp"
#include "wasi/host_errno.hpp"
#include "wasi/iovecs.hpp"

namespace ofwatchdog::wasi {

namespace {

using Errno = abi::Errno;
using Kind = Descriptor::Kind;

// The checks every byte-moving call makes of its descriptor, in order: open (EBADF), a file or
// stream rather than a directory (EBADF), positioned calls on a stream (ESPIPE), rights
// (ENOTCAPABLE).
Errno check_descriptor(const Descriptor* descriptor, abi::Rights rights, bool positioned) {
  if (descriptor == nullptr || descriptor->is_directory())
    return Errno::badf;
  if (positioned && descriptor->is_stream())
    return Errno::spipe;
  if (!descriptor->allows(rights))
    return Errno::notcapable;
  return Errno::success;
}

// A host readv/writev/preadv/pwritev, retried when a signal cuts it short before any byte.
template <typename Transfer> Errno transfer(Transfer call, std::uint64_t& moved) {
  ssize_t result;
  do {
    result = call();
  } while (result < 0 && errno == EINTR);
  if (result < 0)
    return to_wasi_errno(errno);
  moved = static_cast<std::uint64_t>(result);
  return Errno::success;
}

} // namespace

Host::Outcome Host::fd_read(const GuestView& memory, std::uint32_t fd, std::uint32_t iovs,
                            std::uint32_t iovs_len, std::uint32_t nread_ptr) {
  Descriptor* descriptor = descriptors_.find(fd);
  if (Errno error = check_descriptor(descriptor, abi::right::fd_read, false);
      error != Errno::success)
    return done(error);
  std::vector<::iovec> ranges;
  if (Errno error = load_iovecs(memory, iovs, iovs_len, ranges); error != Errno::success)
    return done(error);
  if (!memory.contains(nread_ptr, 4))
    return done(Errno::fault);

  std::uint64_t total = 0;
  if (descriptor->kind == Kind::stdin_stream) {
    bool nonblocking = (descriptor->fdflags & abi::kFdflagNonblock) != 0;
    if (nonblocking && !ranges.empty() && !stdio_.stdin_ready())
      return done(Errno::again);
    // Only the first read may wait: once bytes are in hand, the guest gets them rather than
    // waiting for more to fill its other buffers.
    for (const ::iovec& range : ranges) {
      if (total > 0 && !stdio_.stdin_ready())
        break;
      Stdio::ReadResult read =
          stdio_.read_stdin({static_cast<std::uint8_t*>(range.iov_base), range.iov_len});
      if (read.status == Stdio::Status::interrupted)
        return interrupted();
      if (read.status == Stdio::Status::end)
        break;
      total += read.size;
      if (read.size < range.iov_len)
        break;
    }
  } else {
    int host = descriptor->host.get();
    Errno error = transfer(
        [&] { return ::readv(host, ranges.data(), static_cast<int>(ranges.size())); }, total);
    if (error != Errno::success)
      return done(error);
  }
  memory.store(nread_ptr, static_cast<std::uint32_t>(total));
  return done(Errno::success);
}

Host::Outcome Host::fd_write(const GuestView& memory, std::uint32_t fd, std::uint32_t iovs,
                             std::uint32_t iovs_len, std::uint32_t nwritten_ptr) {
  Descriptor* descriptor = descriptors_.find(fd);
  if (Errno error = check_descriptor(descriptor, abi::right::fd_write, false);
      error != Errno::success)
    return done(error);
  std::vector<::iovec> ranges;
  if (Errno error = load_iovecs(memory, iovs, iovs_len, ranges); error != Errno::success)
    return done(error);
  if (!memory.contains(nwritten_ptr, 4))
    return done(Errno::fault);

  std::uint64_t total = 0;
  if (descriptor->is_stream()) {
    bool to_stdout = descriptor->kind == Kind::stdout_stream;
    for (const ::iovec& range : ranges) {
      std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(range.iov_base),
                                          range.iov_len);
      Stdio::Status status = to_stdout ? stdio_.write_stdout(bytes) : stdio_.write_stderr(bytes);
      if (status == Stdio::Status::interrupted)
        return interrupted();
      total += range.iov_len;
    }
  } else {
    int host = descriptor->host.get();
    Errno error = transfer(
        [&] { return ::writev(host, ranges.data(), static_cast<int>(ranges.size())); }, total);
    if (error != Errno::success)
      return done(error);
  }
  memory.store(nwritten_ptr, static_cast<std::uint32_t>(total));
  return done(Errno::success);
}

Host::Errno Host::fd_positioned(const GuestView& memory, std::uint32_t fd, std::uint32_t iovs,
                                std::uint32_t iovs_len, std::uint64_t offset,
                                std::uint32_t result_ptr, bool write) {
  Descriptor* descriptor = descriptors_.find(fd);
  abi::Rights needed = abi::right::fd_seek | (write ? abi::right::fd_write : abi::right::fd_read);
  if (Errno error = check_descriptor(descriptor, needed, true); error != Errno::success)
    return error;
  std::vector<::iovec> ranges;
  if (Errno error = load_iovecs(memory, iovs, iovs_len, ranges); error != Errno::success)
    return error;
  if (!memory.contains(result_ptr, 4))
    return Errno::fault;
  if (offset > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()))
    return Errno::inval;
  std::uint64_t total = 0;
  int host = descriptor->host.get();
  auto call = write ? ::pwritev : ::preadv;
  Errno error = transfer(
      [&] {
        return call(host, ranges.data(), static_cast<int>(ranges.size()),
                    static_cast<off_t>(offset));
      },
      total);
  if (error == Errno::success)
    memory.store(result_ptr, static_cast<std::uint32_t>(total));
  return error;
}

Host::Errno Host::fd_seek(const GuestView& memory, std::uint32_t fd, std::uint64_t offset,
                          std::uint32_t whence, std::uint32_t result_ptr) {
  int host_whence;
  switch (static_cast<abi::Whence>(whence)) {
  case abi::Whence::set:
    host_whence = SEEK_SET;
    break;
  case abi::Whence::cur:
    host_whence = SEEK_CUR;
    break;
  case abi::Whence::end:
    host_whence = SEEK_END;
    break;
  default:
    return Errno::inval;
  }
  // Asking where the offset is, without moving it, is all fd_tell's right allows.
  bool tell_only = host_whence == SEEK_CUR && offset == 0;
  Descriptor* descriptor = descriptors_.find(fd);
  abi::Rights needed = tell_only && descriptor != nullptr && descriptor->allows(abi::right::fd_tell)
                           ? abi::right::fd_tell
                           : abi::right::fd_seek;
  if (Errno error = check_descriptor(descriptor, needed, true); error != Errno::success)
    return error;
  if (!memory.contains(result_ptr, 8))
    return Errno::fault;
  // The offset is a signed filedelta carried in 64 bits.
  off_t position = ::lseek(descriptor->host.get(), static_cast<off_t>(offset), host_whence);
  if (position < 0)
    return to_wasi_errno(errno);
  memory.store(result_ptr, static_cast<std::uint64_t>(position));
  return Errno::success;
}

Host::Errno Host::fd_tell(const GuestView& memory, std::uint32_t fd, std::uint32_t result_ptr) {
  Descriptor* descriptor = descriptors_.find(fd);
  abi::Rights needed = descriptor != nullptr && descriptor->allows(abi::right::fd_seek)
                           ? abi::right::fd_seek
                           : abi::right::fd_tell;
  if (Errno error = check_descriptor(descriptor, needed, true); error != Errno::success)
    return error;
  if (!memory.contains(result_ptr, 8))
    return Errno::fault;
  off_t position = ::lseek(descriptor->host.get(), 0, SEEK_CUR);
  if (position < 0)
    return to_wasi_errno(errno);
  memory.store(result_ptr, static_cast<std::uint64_t>(position));
  return Errno::success;
}

} // namespace ofwatchdog::wasi
