// path_open, path_filestat_get, path_create_directory, path_unlink_file,
// path_remove_directory, path_rename: operations on a path beneath a directory descriptor.
//
// Each one resolves the path (path_resolver.hpp) and then, before touching anything, refuses a
// change to the data layer with EROFS.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "wasi/beneath.hpp"
#include "wasi/host.hpp"
#include "wasi/host_errno.hpp"
#include "wasi/host_stat.hpp"
#include "wasi/path_resolver.hpp"

namespace ofwatchdog::wasi {

namespace {

using Errno = abi::Errno;

constexpr mode_t kCreatedFileMode = 0644;
constexpr mode_t kCreatedDirectoryMode = 0755;

// The directory a path is relative to: open (EBADF), a directory (ENOTDIR), with `rights`
// (ENOTCAPABLE).
Errno check_directory(const Descriptor* directory, abi::Rights rights) {
  if (directory == nullptr)
    return Errno::badf;
  if (!directory->is_directory())
    return Errno::notdir;
  if (!directory->allows(rights))
    return Errno::notcapable;
  return Errno::success;
}

// The host's open(2) flags for a path_open.
int host_open_flags(std::uint32_t lookup_flags, std::uint32_t oflags, abi::Rights rights,
                    std::uint32_t fdflags) {
  // O_NONBLOCK keeps the open itself from waiting on a FIFO in the data directory (which is then
  // refused); regular files and directories ignore it.
  int flags = O_NONBLOCK | O_NOCTTY;
  bool writes = (rights & rights_of::kFileChanges) != 0 || (oflags & abi::kOflagTrunc) != 0;
  bool reads = (rights & (abi::right::fd_read | abi::right::fd_readdir)) != 0;
  if ((oflags & abi::kOflagDirectory) != 0)
    flags |= O_DIRECTORY | O_RDONLY;
  else if (writes)
    flags |= reads ? O_RDWR : O_WRONLY;
  else
    flags |= O_RDONLY;
  if ((oflags & abi::kOflagCreat) != 0)
    flags |= O_CREAT;
  if ((oflags & abi::kOflagExcl) != 0)
    flags |= O_EXCL;
  if ((oflags & abi::kOflagTrunc) != 0)
    flags |= O_TRUNC;
  if ((fdflags & abi::kFdflagAppend) != 0)
    flags |= O_APPEND;
  if ((fdflags & abi::kFdflagDsync) != 0)
    flags |= O_DSYNC;
  if ((fdflags & (abi::kFdflagSync | abi::kFdflagRsync)) != 0)
    flags |= O_SYNC;
  if ((lookup_flags & abi::kLookupSymlinkFollow) == 0)
    flags |= O_NOFOLLOW;
  return flags;
}

} // namespace

ResolvedPath Host::resolve_guest_path(const GuestView& memory, std::uint32_t dirfd,
                                      abi::Rights rights, std::uint32_t path,
                                      std::uint32_t path_len, const Descriptor** directory) {
  ResolvedPath resolved;
  const Descriptor* base = descriptors_.find(dirfd);
  resolved.error = check_directory(base, rights);
  if (resolved.error != Errno::success)
    return resolved;
  if (directory != nullptr)
    *directory = base;
  std::string guest_path;
  resolved.error = read_guest_path(memory, path, path_len, kMaxPathBytes, guest_path);
  if (resolved.error != Errno::success)
    return resolved;
  return resolve_path(*base, guest_path, sandbox_);
}

namespace {

// `/dev/stdin`, `/dev/stdout` and `/dev/stderr` name the request's streams, whatever the
// layers hold: a module that takes only file names (flite's -o WAVEFILE) can then read the
// request body and write the response. Only these three names, only beneath the root.
std::optional<Descriptor::Kind> stream_named(const Descriptor& directory,
                                             const ResolvedPath& resolved) {
  if (directory.kind != Descriptor::Kind::root || resolved.names_root)
    return std::nullopt;
  if (resolved.path == "dev/stdin")
    return Descriptor::Kind::stdin_stream;
  if (resolved.path == "dev/stdout")
    return Descriptor::Kind::stdout_stream;
  if (resolved.path == "dev/stderr")
    return Descriptor::Kind::stderr_stream;
  return std::nullopt;
}

} // namespace

Host::Errno Host::path_open(const GuestView& memory, std::uint32_t dirfd,
                            std::uint32_t lookup_flags, std::uint32_t path, std::uint32_t path_len,
                            std::uint32_t oflags, std::uint64_t rights_base,
                            std::uint64_t rights_inheriting, std::uint32_t fdflags,
                            std::uint32_t fd_ptr) {
  const Descriptor* directory = nullptr;
  ResolvedPath resolved =
      resolve_guest_path(memory, dirfd, abi::right::path_open, path, path_len, &directory);
  if (resolved.error != Errno::success)
    return resolved.error;
  constexpr std::uint32_t kKnownOflags =
      abi::kOflagCreat | abi::kOflagDirectory | abi::kOflagExcl | abi::kOflagTrunc;
  if ((oflags & ~kKnownOflags) != 0)
    return Errno::inval;
  bool creates = (oflags & abi::kOflagCreat) != 0;
  bool truncates = (oflags & abi::kOflagTrunc) != 0;
  if ((creates && !directory->allows(abi::right::path_create_file)) ||
      (truncates && !directory->allows(abi::right::path_filestat_set_size)))
    return Errno::notcapable;
  if (!memory.contains(fd_ptr, 4))
    return Errno::fault;
  // Checked before anything is opened or created, so that a full table has no side effect.
  std::optional<std::uint32_t> number = descriptors_.free_number();
  if (!number)
    return Errno::mfile;
  // Write rights and O_APPEND mean nothing for a directory, which nothing writes: with
  // O_DIRECTORY they change nothing (opendir may ask for every right it could inherit).
  bool wants_directory = (oflags & abi::kOflagDirectory) != 0;
  bool changes = creates || truncates ||
                 (!wants_directory && ((fdflags & abi::kFdflagAppend) != 0 ||
                                       (rights_base & rights_of::kFileChanges) != 0));

  Descriptor opened;
  opened.rights_inheriting = rights_inheriting & directory->rights_inheriting;
  if (auto stream = stream_named(*directory, resolved)) {
    // Another number for a standard stream: what it reads and writes is the stream's.
    opened.kind = *stream;
    opened.filetype = abi::Filetype::character_device;
    opened.rights_base =
        rights_base &
        (*stream == Descriptor::Kind::stdin_stream ? rights_of::kStdin : rights_of::kStdout);
    opened.rights_inheriting = 0;
    opened.fdflags = static_cast<std::uint16_t>(fdflags);
  } else if (resolved.names_root) {
    if (creates && (oflags & abi::kOflagExcl) != 0)
      return Errno::exist;
    if (changes)
      return Errno::isdir;
    opened.kind = Descriptor::Kind::root;
    opened.filetype = abi::Filetype::directory;
    opened.rights_base = rights_base & directory->rights_inheriting & rights_of::kDirectory;
  } else {
    if (resolved.layer == Layer::data && changes)
      return Errno::rofs;
    if (changes)
      sandbox_.note_change();
    OpenResult host =
        open_beneath(resolved.base, resolved.path,
                     host_open_flags(lookup_flags, oflags, rights_base, fdflags), kCreatedFileMode);
    if (host.error != Errno::success)
      return host.error;
    struct stat info;
    if (::fstat(host.fd.get(), &info) != 0)
      return to_wasi_errno(errno);
    abi::Rights possible;
    if (S_ISDIR(info.st_mode)) {
      opened.kind = Descriptor::Kind::directory;
      possible = rights_of::kDirectory;
    } else if (S_ISREG(info.st_mode)) {
      opened.kind = Descriptor::Kind::file;
      possible = rights_of::kFile;
    } else {
      // A FIFO, device or socket in the data directory: nothing a request should wait on.
      return Errno::notsup;
    }
    opened.layer = resolved.layer;
    opened.host = std::move(host.fd);
    opened.filetype = filetype_of_mode(info.st_mode);
    opened.rights_base = rights_base & directory->rights_inheriting & possible;
    opened.fdflags = static_cast<std::uint16_t>(fdflags);
  }
  descriptors_.install(*number, std::move(opened));
  memory.store(fd_ptr, *number);
  return Errno::success;
}

Host::Errno Host::path_filestat_get(const GuestView& memory, std::uint32_t dirfd,
                                    std::uint32_t lookup_flags, std::uint32_t path,
                                    std::uint32_t path_len, std::uint32_t result_ptr) {
  if (!memory.contains(result_ptr, sizeof(abi::Filestat)))
    return Errno::fault;
  ResolvedPath resolved =
      resolve_guest_path(memory, dirfd, abi::right::path_filestat_get, path, path_len);
  if (resolved.error != Errno::success)
    return resolved.error;
  struct stat info;
  if (resolved.names_root) {
    if (::fstat(sandbox_.scratch_fd(), &info) != 0)
      return to_wasi_errno(errno);
  } else {
    // An O_PATH descriptor reaches the file without reading it (and, with O_NOFOLLOW, a symlink
    // itself), so stat goes through the same walk beneath the base as every open.
    int flags = O_PATH | ((lookup_flags & abi::kLookupSymlinkFollow) != 0 ? 0 : O_NOFOLLOW);
    OpenResult host = open_beneath(resolved.base, resolved.path, flags);
    if (host.error != Errno::success)
      return host.error;
    if (::fstat(host.fd.get(), &info) != 0)
      return to_wasi_errno(errno);
  }
  memory.store(result_ptr, filestat_of(info));
  return Errno::success;
}

Host::Errno Host::path_create_directory(const GuestView& memory, std::uint32_t dirfd,
                                        std::uint32_t path, std::uint32_t path_len) {
  ResolvedPath resolved =
      resolve_guest_path(memory, dirfd, abi::right::path_create_directory, path, path_len);
  if (resolved.error != Errno::success)
    return resolved.error;
  if (resolved.names_root)
    return Errno::exist;
  if (resolved.layer == Layer::data)
    return Errno::rofs;
  ParentAndName target = open_parent(resolved);
  if (target.error != Errno::success)
    return target.error;
  sandbox_.note_change();
  if (::mkdirat(target.parent.get(), target.name.c_str(), kCreatedDirectoryMode) != 0)
    return to_wasi_errno(errno);
  return Errno::success;
}

Host::Errno Host::path_remove(const GuestView& memory, std::uint32_t dirfd, std::uint32_t path,
                              std::uint32_t path_len, bool remove_directory) {
  abi::Rights right =
      remove_directory ? abi::right::path_remove_directory : abi::right::path_unlink_file;
  ResolvedPath resolved = resolve_guest_path(memory, dirfd, right, path, path_len);
  if (resolved.error != Errno::success)
    return resolved.error;
  if (resolved.names_root)
    return remove_directory ? Errno::busy : Errno::isdir;
  if (resolved.layer == Layer::data)
    return Errno::rofs;
  ParentAndName target = open_parent(resolved);
  if (target.error != Errno::success)
    return target.error;
  if (::unlinkat(target.parent.get(), target.name.c_str(), remove_directory ? AT_REMOVEDIR : 0) !=
      0)
    return to_wasi_errno(errno);
  return Errno::success;
}

Host::Errno Host::path_rename(const GuestView& memory, std::uint32_t old_dirfd,
                              std::uint32_t old_path, std::uint32_t old_path_len,
                              std::uint32_t new_dirfd, std::uint32_t new_path,
                              std::uint32_t new_path_len) {
  ResolvedPath from =
      resolve_guest_path(memory, old_dirfd, abi::right::path_rename_source, old_path, old_path_len);
  if (from.error != Errno::success)
    return from.error;
  ResolvedPath to =
      resolve_guest_path(memory, new_dirfd, abi::right::path_rename_target, new_path, new_path_len);
  if (to.error != Errno::success)
    return to.error;
  if (from.names_root || to.names_root)
    return Errno::busy;
  // Either end in the data layer would change it: taking a data entry away, or putting a
  // scratch file under a data directory.
  if (from.layer == Layer::data || to.layer == Layer::data)
    return Errno::rofs;
  ParentAndName source = open_parent(from);
  if (source.error != Errno::success)
    return source.error;
  ParentAndName target = open_parent(to);
  if (target.error != Errno::success)
    return target.error;
  sandbox_.note_change();
  if (::renameat(source.parent.get(), source.name.c_str(), target.parent.get(),
                 target.name.c_str()) != 0)
    return to_wasi_errno(errno);
  return Errno::success;
}

} // namespace ofwatchdog::wasi
