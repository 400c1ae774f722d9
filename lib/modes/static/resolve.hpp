#pragma once
// All the file-system work that decides a static-mode answer, in one blocking function meant to
// run on libuv's thread pool (one `uv_queue_work` job per request).
//
// Why one job: each libuv file-system request is a round trip between the loop and a pool
// thread (a queue lock, a futex wake-up, an eventfd write and a loop turn). Serving a 1 KiB file
// used to take six of them (open, realpath, fstat, a sniff read, the body read, close), and the
// realpath of `/proc/self/fd/N` alone cost nine readlink calls. Here the same steps run back to
// back on one pool thread, the real path is one readlink of the descriptor's link, and a small
// file comes back with its bytes already read and its descriptor closed.
//
// The function only reads its input and writes its result, so it is safe on any thread and is
// tested without a loop.

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modes/static/dir_listing.hpp"

namespace ofwatchdog::modes::static_files {

// Files up to this size are read whole by the job (for methods that send a body), so head and
// body can leave in one write. Larger ones are handed on open (sendfile or chunked reads).
inline constexpr std::uint64_t kInlineFileBytes = 64 * 1024;

struct FileFacts {
  std::uint64_t size = 0;
  std::optional<std::time_t> mtime; // nothing for a zero or Unix-epoch time
  bool is_directory = false;
  bool is_regular = false;
};

struct ResolveInput {
  std::string root;        // `static_path` as configured
  std::string real_root;   // its real path, or empty when it is not known yet
  std::string fs_path;     // the target's name under `root` (path_rules' file_system_path)
  std::string type_name;   // the name the content type follows; empty: the target's real name
  bool proc_fd = true;     // `/proc/self/fd` names open descriptors
  bool want_index = false; // a directory was asked for with a trailing slash
  bool want_bytes = true;  // the method sends a body (not HEAD)
};

struct ResolveResult {
  // Set when the job resolved the root (it was not known); the loop keeps it for later requests.
  std::string resolved_root;
  bool root_missing = false; // the root cannot be resolved: 404
  int open_error = 0;        // a negative libuv error from opening the target
  bool outside_root = false; // the target's real path is not under the root: 404

  std::string real_path; // the target's real path
  FileFacts target;

  // The regular file to serve: the target itself, or a directory's usable index.html.
  bool has_file = false;
  FileFacts file;
  int file_fd = -1;                 // open only when the bytes were not read; the loop closes it
  std::optional<std::string> bytes; // the whole file, when it was small and a body is wanted
  std::string_view content_type;    // from the name, else sniffed (static storage)
  int read_error = 0;               // a negative libuv error from reading the file

  // A directory without a usable index.html, asked for with a trailing slash.
  bool listed = false;
  int list_error = 0;
  std::vector<ListingEntry> entries;
};

// The facts of a `stat` result as the answer uses them.
FileFacts facts_from(const struct stat& st);

// Runs every step; blocking. Never throws for a file-system error: they end up in the result.
ResolveResult resolve_request(const ResolveInput& input);

// The real path of an open descriptor: readlink of `/proc/self/fd/N` (the kernel's own name for
// the opened file, with every symlink already followed), or realpath(3) of `fallback` when
// `/proc` is not there. Nothing on failure.
std::optional<std::string> descriptor_real_path(int fd, const std::string& fallback, bool proc_fd);

} // namespace ofwatchdog::modes::static_files
