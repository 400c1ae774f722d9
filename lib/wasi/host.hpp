#pragma once
// The WASI preview1 host of one request: a fresh instance's view of its arguments, environment,
// clocks, standard streams and files.
//
// The engine forwards every import call to `call` (host_call.hpp). Arguments of i32 parameters
// are taken as their low 32 bits, so an engine may widen them either way. Functions host.cpp
// does not dispatch answer ENOSYS. Errors the guest causes are WASI errno values, never a crash:
// every guest range is checked first (guest_view.hpp), descriptors are bounded
// (descriptor_table.hpp) and paths too (kMaxPathBytes).
//
// Choices where preview1 leaves room (docs/wasi-host.md):
//   - changing a data entry in any way: EROFS; a step out of the sandbox: ENOTCAPABLE; an
//     operation the descriptor's rights do not allow (writing a file opened read-only):
//     ENOTCAPABLE; seeking a stream: ESPIPE; reading, writing or seeking a directory: EBADF;
//     a directory operation (path_*, fd_readdir) on anything else: ENOTDIR;
//   - the streams report file type `unknown`, as pipes.
//
// Built on the thread that runs the guest, used and destroyed there. The destructor closes
// every descriptor the guest opened and empties the sandbox's scratch layer, so nothing of the
// request survives it (docs/decisions.md, wasm-fresh-instance).

#include <cstdint>
#include <string>
#include <vector>

#include "wasi/descriptor_table.hpp"
#include "wasi/guest_view.hpp"
#include "wasi/host_call.hpp"
#include "wasi/path_resolver.hpp"
#include "wasi/sandbox.hpp"
#include "wasi/stdio.hpp"

namespace ofwatchdog::wasi {

constexpr std::uint32_t kMaxPathBytes = 4096;

// Whether Host::call gives `function` a real implementation; the others answer ENOSYS. The mode
// names a module's imports of those once at start-up (wasm-module-check), so a module that relies
// on one is not a mystery at its first call.
bool implements(Function function);

struct HostSetup {
  std::vector<std::string> args;    // argv[0] is the module's name
  std::vector<std::string> environ; // "NAME=value" each
};

class Host final : public HostCalls {
public:
  // `stdio` and `sandbox` outlive the host; the sandbox is one slot's, not shared while in use.
  Host(HostSetup setup, Stdio& stdio, Sandbox& sandbox);
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  HostResult call(Function function, const std::uint64_t* args, GuestMemory memory) override;

private:
  using Errno = abi::Errno;
  // A function's outcome: an errno, or the end of the guest (exited, interrupted).
  using Outcome = HostResult;
  static Outcome done(Errno error) {
    return {HostResult::Kind::returned, static_cast<std::uint32_t>(error)};
  }
  static Outcome interrupted() { return {HostResult::Kind::interrupted, 0}; }

  // host_process.cpp: arguments, environment, clocks, randomness.
  Errno strings_sizes_get(const std::vector<std::string>& strings, const GuestView& memory,
                          std::uint32_t count_ptr, std::uint32_t size_ptr);
  Errno strings_get(const std::vector<std::string>& strings, const GuestView& memory,
                    std::uint32_t pointers_ptr, std::uint32_t buffer_ptr);
  // clock_res_get (`resolution`) and clock_time_get.
  Errno clock_get(const GuestView& memory, std::uint32_t id, std::uint32_t result_ptr,
                  bool resolution);
  Errno random_get(const GuestView& memory, std::uint32_t buffer, std::uint32_t length);

  // host_io.cpp: reading and writing through descriptors.
  Outcome fd_read(const GuestView& memory, std::uint32_t fd, std::uint32_t iovs,
                  std::uint32_t iovs_len, std::uint32_t nread_ptr);
  Outcome fd_write(const GuestView& memory, std::uint32_t fd, std::uint32_t iovs,
                   std::uint32_t iovs_len, std::uint32_t nwritten_ptr);
  // fd_pread (`write` false) and fd_pwrite.
  Errno fd_positioned(const GuestView& memory, std::uint32_t fd, std::uint32_t iovs,
                      std::uint32_t iovs_len, std::uint64_t offset, std::uint32_t result_ptr,
                      bool write);
  Errno fd_seek(const GuestView& memory, std::uint32_t fd, std::uint64_t offset,
                std::uint32_t whence, std::uint32_t result_ptr);
  Errno fd_tell(const GuestView& memory, std::uint32_t fd, std::uint32_t result_ptr);

  // host_fd.cpp: descriptors themselves.
  Errno fd_close(std::uint32_t fd);
  Errno fd_renumber(std::uint32_t from, std::uint32_t to);
  Errno fd_sync(std::uint32_t fd);
  Errno fd_fdstat_get(const GuestView& memory, std::uint32_t fd, std::uint32_t result_ptr);
  Errno fd_fdstat_set_flags(std::uint32_t fd, std::uint32_t flags);
  Errno fd_filestat_get(const GuestView& memory, std::uint32_t fd, std::uint32_t result_ptr);
  Errno fd_filestat_set_size(std::uint32_t fd, std::uint64_t size);
  Errno fd_prestat_get(const GuestView& memory, std::uint32_t fd, std::uint32_t result_ptr);
  Errno fd_prestat_dir_name(const GuestView& memory, std::uint32_t fd, std::uint32_t path,
                            std::uint32_t path_len);

  // host_readdir.cpp
  Errno fd_readdir(const GuestView& memory, std::uint32_t fd, std::uint32_t buffer,
                   std::uint32_t buffer_len, std::uint64_t cookie, std::uint32_t used_ptr);

  // host_path.cpp: operations on paths beneath a directory descriptor.
  // The checks every path_* call starts with: `dirfd` open (EBADF), a directory (ENOTDIR), with
  // `rights` (ENOTCAPABLE), and the path read from memory and resolved. `directory` is set when
  // the descriptor checks pass.
  ResolvedPath resolve_guest_path(const GuestView& memory, std::uint32_t dirfd, abi::Rights rights,
                                  std::uint32_t path, std::uint32_t path_len,
                                  const Descriptor** directory = nullptr);
  Errno path_open(const GuestView& memory, std::uint32_t dirfd, std::uint32_t lookup_flags,
                  std::uint32_t path, std::uint32_t path_len, std::uint32_t oflags,
                  std::uint64_t rights_base, std::uint64_t rights_inheriting, std::uint32_t fdflags,
                  std::uint32_t fd_ptr);
  Errno path_filestat_get(const GuestView& memory, std::uint32_t dirfd, std::uint32_t lookup_flags,
                          std::uint32_t path, std::uint32_t path_len, std::uint32_t result_ptr);
  Errno path_create_directory(const GuestView& memory, std::uint32_t dirfd, std::uint32_t path,
                              std::uint32_t path_len);
  Errno path_remove(const GuestView& memory, std::uint32_t dirfd, std::uint32_t path,
                    std::uint32_t path_len, bool directory);
  Errno path_rename(const GuestView& memory, std::uint32_t old_dirfd, std::uint32_t old_path,
                    std::uint32_t old_path_len, std::uint32_t new_dirfd, std::uint32_t new_path,
                    std::uint32_t new_path_len);

  // host_poll.cpp
  Outcome poll_oneoff(const GuestView& memory, std::uint32_t in, std::uint32_t out,
                      std::uint32_t count, std::uint32_t nevents_ptr);

  const HostSetup setup_;
  Stdio& stdio_;
  Sandbox& sandbox_;
  DescriptorTable descriptors_;
};

} // namespace ofwatchdog::wasi
