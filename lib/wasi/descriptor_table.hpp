#pragma once
// The guest's file descriptors for one request: what each number refers to, with its rights and
// flags, and the host descriptor it owns.
//
// 0, 1 and 2 are the standard streams (see stdio.hpp), 3 is the preopened `/` (see
// sandbox.hpp), which has no host descriptor of its own: it stands for both layers. Further
// numbers are given lowest first, as POSIX does, up to kMaxDescriptors in all; past that a
// path_open fails with EMFILE. Closing a descriptor (or the table) closes its host descriptor.

#include <cstdint>
#include <optional>
#include <vector>

#include "util/owned_fd.hpp"
#include "wasi/abi.hpp"
#include "wasi/sandbox.hpp"

namespace ofwatchdog::wasi {

constexpr std::uint32_t kMaxDescriptors = 1024;
constexpr std::uint32_t kRootFd = 3;

struct Descriptor {
  enum class Kind : std::uint8_t {
    stdin_stream,
    stdout_stream,
    stderr_stream,
    root,
    directory,
    file
  };
  Kind kind = Kind::file;
  Layer layer = Layer::scratch; // directory and file only
  OwnedFd host;                 // directory and file only
  abi::Filetype filetype = abi::Filetype::unknown;
  abi::Rights rights_base = 0;
  abi::Rights rights_inheriting = 0;
  std::uint16_t fdflags = 0;
  bool preopen = false; // answers fd_prestat_get (fd 3, wherever fd_renumber moves it)

  bool is_directory() const { return kind == Kind::root || kind == Kind::directory; }
  bool is_stream() const { return kind <= Kind::stderr_stream; }
  bool allows(abi::Rights rights) const { return (rights_base & rights) == rights; }
};

// The rights each kind can have at most.
namespace rights_of {
constexpr abi::Rights kFile = abi::right::fd_datasync | abi::right::fd_read | abi::right::fd_seek |
                              abi::right::fd_fdstat_set_flags | abi::right::fd_sync |
                              abi::right::fd_tell | abi::right::fd_write | abi::right::fd_advise |
                              abi::right::fd_allocate | abi::right::fd_filestat_get |
                              abi::right::fd_filestat_set_size | abi::right::fd_filestat_set_times |
                              abi::right::poll_fd_readwrite;
constexpr abi::Rights kDirectory =
    abi::right::fd_fdstat_set_flags | abi::right::fd_sync | abi::right::fd_datasync |
    abi::right::path_create_directory | abi::right::path_create_file |
    abi::right::path_link_source | abi::right::path_link_target | abi::right::path_open |
    abi::right::fd_readdir | abi::right::path_readlink | abi::right::path_rename_source |
    abi::right::path_rename_target | abi::right::path_filestat_get |
    abi::right::path_filestat_set_size | abi::right::path_filestat_set_times |
    abi::right::fd_filestat_get | abi::right::fd_filestat_set_times | abi::right::path_symlink |
    abi::right::path_remove_directory | abi::right::path_unlink_file;
constexpr abi::Rights kStdin = abi::right::fd_read | abi::right::fd_fdstat_set_flags |
                               abi::right::fd_filestat_get | abi::right::poll_fd_readwrite;
constexpr abi::Rights kStdout = abi::right::fd_write | abi::right::fd_fdstat_set_flags |
                                abi::right::fd_filestat_get | abi::right::poll_fd_readwrite;
// What opening a file asks for that would change it: refused in the data layer (EROFS).
constexpr abi::Rights kFileChanges =
    abi::right::fd_write | abi::right::fd_allocate | abi::right::fd_filestat_set_size;
} // namespace rights_of

class DescriptorTable {
public:
  // The three streams and the preopened root.
  DescriptorTable();

  // The open descriptor `fd`, or nullptr (EBADF).
  Descriptor* find(std::uint64_t fd);
  // The lowest free number, or nullopt when kMaxDescriptors are open.
  std::optional<std::uint32_t> free_number() const;
  // Places `descriptor` at `fd` (from free_number).
  void install(std::uint32_t fd, Descriptor descriptor);
  // False when `fd` was not open.
  bool close(std::uint64_t fd);
  // fd_renumber: `to` (which must be open) is closed and `from` takes its number.
  bool renumber(std::uint64_t from, std::uint64_t to);
  // Every descriptor closed, host descriptors included.
  void clear();

private:
  std::vector<std::optional<Descriptor>> slots_;
};

} // namespace ofwatchdog::wasi
