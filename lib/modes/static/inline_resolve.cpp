// The static mode's non-blocking fast path; see inline_resolve.hpp.
#include "modes/static/inline_resolve.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "modes/static/mime_types.hpp"
#include "modes/static/path_rules.hpp"
#include "modes/static/static_constants.hpp"

namespace ofwatchdog::modes::static_files {

namespace {

// statfs(2) f_type values of network and user-space file systems, where opening a file may wait
// on a server even though every name on the way is cached.
constexpr long kRemoteFileSystems[] = {
    0x6969,     // NFS
    0xFF534D42, // CIFS
    0xFE534D42, // SMB2
    0x517B,     // SMB
    0x65735546, // FUSE
    0x00C36400, // Ceph
    0x5346414F, // AFS
    0x73757245, // Coda
    0x01021997, // 9P
    0x01161970, // GFS2
    0x7461636F, // OCFS2
};

int open_cached(int dir_fd, const char* name, std::uint64_t flags, std::uint64_t resolve) {
  open_how how{};
  how.flags = flags;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dir_fd, name, &how, sizeof how));
}

enum class ReadOutcome { done, would_block, unsupported };

// Reads up to `want` bytes from the start of `fd` without waiting for the disk; fewer only at
// the end of the file, as the job's read does.
ReadOutcome read_cached(int fd, std::string& into, std::size_t want) {
  into.resize(want);
  std::size_t got = 0;
  while (got < want) {
    iovec part{into.data() + got, want - got};
    ssize_t n = ::preadv2(fd, &part, 1, static_cast<off_t>(got), RWF_NOWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      bool unsupported = errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL;
      return unsupported ? ReadOutcome::unsupported : ReadOutcome::would_block;
    }
    if (n == 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  into.resize(got);
  return ReadOutcome::done;
}

} // namespace

void InlineResolver::configure(const std::string& root, const std::string& real_root,
                               bool allowed) {
  enabled_ = false;
  // The root's name must already be its real path: then the name opened per request is the
  // real path of the file (see the header).
  if (!allowed || real_root.empty() || file_system_path(root, "/") != real_root)
    return;
  struct statfs fs {};
  if (::statfs(real_root.c_str(), &fs) != 0)
    return;
  for (long remote : kRemoteFileSystems)
    if (static_cast<long>(fs.f_type) == remote)
      return;
  // A probe for openat2 with RESOLVE_CACHED (Linux 5.12) that a seccomp filter lets through.
  // This runs at start-up, before any request, so it may wait; EAGAIN proves support too.
  int fd = open_cached(AT_FDCWD, real_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC,
                       RESOLVE_CACHED | RESOLVE_NO_SYMLINKS);
  if (fd < 0 && errno != EAGAIN)
    return;
  if (fd >= 0)
    ::close(fd);
  enabled_ = true;
}

bool InlineResolver::decline() {
  ++declined_;
  return false;
}

bool InlineResolver::declined_for_good(int error) {
  if (error == ENOSYS || error == EPERM)
    enabled_ = false;
  return decline();
}

bool InlineResolver::try_resolve(const ResolveInput& input, ResolveResult& out) {
  if (!enabled_)
    return false;
  // Without a known real root the job resolves it (and reports it); without a requested name
  // the type and the redirects follow the kernel's name for the file (see the header).
  if (input.real_root.empty() || input.type_name.empty())
    return decline();
  int fd = open_cached(AT_FDCWD, input.fs_path.c_str(), kOpenFlags,
                       RESOLVE_CACHED | RESOLVE_NO_SYMLINKS);
  if (fd < 0)
    return declined_for_good(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return decline();
  }
  FileFacts facts = facts_from(st);
  // The job's take_file, step for step.
  std::optional<std::string_view> named = content_type_for_name(input.type_name);
  bool keep_open = input.want_bytes && facts.size > kInlineFileBytes;
  std::size_t want = 0;
  if (input.want_bytes && !keep_open)
    want = static_cast<std::size_t>(facts.size);
  else if (!named)
    want = static_cast<std::size_t>(std::min<std::uint64_t>(facts.size, kSniffBytes));
  std::string bytes;
  if (want > 0) {
    ReadOutcome read = read_cached(fd, bytes, want);
    if (read != ReadOutcome::done) {
      ::close(fd);
      if (read == ReadOutcome::unsupported)
        enabled_ = false;
      return decline();
    }
  }
  ++answered_;
  out.real_path = input.fs_path;
  out.target = facts;
  out.has_file = true;
  out.file = facts;
  out.content_type = named ? *named : sniff_content_type(bytes);
  if (keep_open) {
    out.file_fd = fd;
  } else {
    // A read-only regular file: closing it writes nothing back and does not wait.
    ::close(fd);
  }
  if (input.want_bytes && !keep_open) {
    out.file.size = bytes.size();
    out.bytes = std::move(bytes);
  }
  return true;
}

} // namespace ofwatchdog::modes::static_files
