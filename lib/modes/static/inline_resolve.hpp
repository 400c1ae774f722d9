#pragma once
// The static mode's fast path: the same answer as resolve_request (resolve.hpp), found on the
// loop thread with calls that fail instead of waiting, or not at all.
//
// Why: a request that goes to the thread pool pays a queue lock, a futex wake-up, two context
// switches and an eventfd round trip before and after its few microseconds of file-system work.
// For a small file that sits in the page cache this hand-off is most of the cost of the request.
//
// How. Three calls, each of which either answers at once or reports that it would have to wait:
// 1. `openat2(AT_FDCWD, fs_path, {kOpenFlags, RESOLVE_CACHED | RESOLVE_NO_SYMLINKS})`.
//    RESOLVE_CACHED fails with EAGAIN instead of reading a directory from disk when a component
//    of the path is not in the dentry cache. RESOLVE_NO_SYMLINKS fails with ELOOP on any symlink.
// 2. `fstat` of the open descriptor (the inode is in memory once it is open).
// 3. `preadv2(..., RWF_NOWAIT)` for a small body or the sniff bytes: EAGAIN when a page is not in
//    the page cache.
// Any failure, of any kind, sends the request to the thread-pool job, which then applies the
// ordinary rules (and gives the ordinary errors) from scratch; nothing is left open.
//
// Why the answer is provably the job's. The fast path is only enabled when the configured root,
// as joined by file_system_path, is already its own real path (absolute, no symlink, no `.`/`..`).
// The path opened is then the job's path exactly (same name, same flags), and because no symlink
// was followed, the opened file's real path is that name: it lies under the root's real path, so
// the job's containment check would pass, and the job's readlink would give that same name. A
// root that was renamed, deleted or replaced after start-up changes nothing: the name is
// resolved afresh on every request, as in the job (there is no descriptor of the root to go
// stale). Only regular files are answered here; directories (index.html, listings, redirects),
// symlinks, FIFOs and every error go to the job. The result is filled exactly as the job fills
// it, with one exception: `real_path` is the name opened rather than the kernel's name for the
// descriptor. The two differ only on a case-insensitive file system, and `real_path` only feeds
// a log line for files, so the fast path is used only when the request named a file
// (`type_name` is set).
//
// Kernels without openat2 or RESOLVE_CACHED (before 5.12), and containers whose seccomp filter
// refuses openat2 (ENOSYS or EPERM) or RWF_NOWAIT, switch the fast path off for good on the first
// such answer. A root on a network file system never enables it: opening a file there may wait
// on the server even when every name is cached.

#include <cstdint>
#include <string>

#include "modes/static/resolve.hpp"

namespace ofwatchdog::modes::static_files {

class InlineResolver {
public:
  // Decides once, at start-up, whether the fast path can be used for `root` (whose real path is
  // `real_root`; empty when the root does not exist). Without a usable root it stays off: the
  // job then resolves the root per request as before.
  void configure(const std::string& root, const std::string& real_root, bool allowed);

  // Fills `out` exactly as resolve_request(input) would and returns true, or returns false with
  // nothing opened and `out` untouched, and the caller queues the job. Never blocks.
  bool try_resolve(const ResolveInput& input, ResolveResult& out);

  bool enabled() const { return enabled_; }
  // How many requests this path answered, and how many it handed to the job (tests use them).
  std::uint64_t answered() const { return answered_; }
  std::uint64_t declined() const { return declined_; }

private:
  bool decline();
  bool declined_for_good(int error);

  bool enabled_ = false;
  std::uint64_t answered_ = 0;
  std::uint64_t declined_ = 0;
};

} // namespace ofwatchdog::modes::static_files
