// fd_readdir: a directory's entries from a cookie, as many as fit in the guest's buffer.
//
// A cookie is where the listing goes on after an entry (the entry's d_next); 0 is the start.
// For a host directory it is the kernel's own position (getdents64's d_off, which lseek takes
// back), so the listing needs no state between calls. The guest's `/` lists two host
// directories, and its cookies say which one they are in: the data directory's positions as
// they are, then the scratch directory's with the top bit set. Kernel positions are off_t
// values, never negative, so the top bit is free. The data directory's "." and ".." are left
// out (the scratch directory's stand for the root), as is a scratch entry whose name a data
// entry has (none should exist: see sandbox.hpp).
//
// An entry that does not fit is written as far as the buffer goes; a full buffer tells the
// guest's libc to come back with a larger one or from the last complete entry's cookie.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "wasi/host.hpp"
#include "wasi/host_errno.hpp"
#include "wasi/host_stat.hpp"

namespace ofwatchdog::wasi {

namespace {

using Errno = abi::Errno;

constexpr std::uint64_t kScratchCookie = 1ull << 63;
constexpr std::size_t kListingChunk = 4096;

class DirentWriter {
public:
  DirentWriter(const GuestView& memory, std::uint64_t at, std::uint64_t size)
      : memory_(memory), at_(at), end_(at + size), start_(at) {}

  // Writes one entry (cut short if it must be); false once the buffer is full.
  bool add(std::uint64_t next, std::uint64_t inode, abi::Filetype type, std::string_view name) {
    abi::Dirent head{};
    head.d_next = next;
    head.d_ino = inode;
    head.d_namlen = static_cast<std::uint32_t>(name.size());
    head.d_type = type;
    std::uint64_t head_bytes = std::min<std::uint64_t>(sizeof head, end_ - at_);
    memory_.store_bytes(at_, &head, head_bytes);
    at_ += head_bytes;
    std::uint64_t name_bytes = std::min<std::uint64_t>(name.size(), end_ - at_);
    memory_.store_bytes(at_, name.data(), name_bytes);
    at_ += name_bytes;
    return at_ < end_;
  }
  bool full() const { return at_ == end_; }
  std::uint64_t used() const { return at_ - start_; }

private:
  const GuestView& memory_;
  std::uint64_t at_;
  const std::uint64_t end_;
  const std::uint64_t start_;
};

bool is_dot_or_dotdot(std::string_view name) {
  return name == "." || name == "..";
}

struct Listing {
  Errno error = Errno::success;
  bool ended = false; // every entry after the cookie was offered
};

// Offers the entries of the host directory `dir` after position `cookie` to `offer(entry)`,
// until it returns false or the directory ends. The listing uses its own descriptor, so the
// offset of no guest descriptor moves.
template <typename Offer> Listing list_host_directory(int dir, std::uint64_t cookie, Offer offer) {
  Listing listing;
  OwnedFd own(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!own.valid() ||
      ::lseek(own.get(), static_cast<off_t>(cookie), SEEK_SET) != static_cast<off_t>(cookie)) {
    listing.error = to_wasi_errno(errno);
    return listing;
  }
  alignas(dirent64) char chunk[kListingChunk];
  for (;;) {
    ssize_t got = ::getdents64(own.get(), chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      listing.error = to_wasi_errno(errno);
      return listing;
    }
    if (got == 0) {
      listing.ended = true;
      return listing;
    }
    for (ssize_t at = 0; at < got;) {
      const auto* entry = reinterpret_cast<const dirent64*>(chunk + at);
      at += entry->d_reclen;
      if (!offer(*entry))
        return listing;
    }
  }
}

} // namespace

Host::Errno Host::fd_readdir(const GuestView& memory, std::uint32_t fd, std::uint32_t buffer,
                             std::uint32_t buffer_len, std::uint64_t cookie,
                             std::uint32_t used_ptr) {
  const Descriptor* directory = descriptors_.find(fd);
  if (directory == nullptr)
    return Errno::badf;
  if (!directory->is_directory())
    return Errno::notdir;
  if (!directory->allows(abi::right::fd_readdir))
    return Errno::notcapable;
  if (!memory.contains(buffer, buffer_len) || !memory.contains(used_ptr, 4))
    return Errno::fault;

  DirentWriter writer(memory, buffer, buffer_len);
  auto write_entry = [&writer](std::uint64_t next, const dirent64& entry) {
    return writer.add(next, entry.d_ino, filetype_of_dirent(entry.d_type), entry.d_name);
  };
  Listing listing;
  if (buffer_len == 0) {
    // Nothing fits: no entry is read.
  } else if (directory->kind == Descriptor::Kind::directory) {
    listing = list_host_directory(directory->host.get(), cookie, [&](const dirent64& entry) {
      return write_entry(static_cast<std::uint64_t>(entry.d_off), entry);
    });
  } else {
    bool in_scratch = (cookie & kScratchCookie) != 0;
    if (!in_scratch) {
      if (sandbox_.data_fd() < 0) {
        listing.ended = true;
      } else {
        listing = list_host_directory(sandbox_.data_fd(), cookie, [&](const dirent64& entry) {
          if (is_dot_or_dotdot(entry.d_name))
            return true;
          return write_entry(static_cast<std::uint64_t>(entry.d_off), entry);
        });
      }
      in_scratch = listing.error == Errno::success && listing.ended && !writer.full();
      cookie = kScratchCookie;
    }
    if (in_scratch) {
      listing = list_host_directory(
          sandbox_.scratch_fd(), cookie & ~kScratchCookie, [&](const dirent64& entry) {
            if (!is_dot_or_dotdot(entry.d_name) && sandbox_.has_data_entry(entry.d_name))
              return true;
            return write_entry(kScratchCookie | static_cast<std::uint64_t>(entry.d_off), entry);
          });
    }
  }
  if (listing.error != Errno::success)
    return listing.error;
  memory.store(used_ptr, static_cast<std::uint32_t>(writer.used()));
  return Errno::success;
}

} // namespace ofwatchdog::wasi
