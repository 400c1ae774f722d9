// The static mode's file-system work for one request; see resolve.hpp.
#include "modes/static/resolve.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>
#include <uv.h>

#include "modes/static/mime_types.hpp"
#include "modes/static/path_rules.hpp"
#include "modes/static/static_constants.hpp"

namespace ofwatchdog::modes::static_files {

namespace {

// libuv errors are negated errno values on Unix (uv-errno.h).
int last_error() {
  return -errno;
}

int open_file(const std::string& name) {
  int fd;
  do
    fd = ::open(name.c_str(), kOpenFlags);
  while (fd < 0 && errno == EINTR);
  return fd;
}

} // namespace

FileFacts facts_from(const struct stat& st) {
  FileFacts facts;
  facts.size = static_cast<std::uint64_t>(st.st_size);
  // The original leaves Last-Modified out for a zero time and for the Unix epoch itself.
  if (st.st_mtim.tv_sec != 0 || st.st_mtim.tv_nsec != 0)
    facts.mtime = static_cast<std::time_t>(st.st_mtim.tv_sec);
  facts.is_directory = S_ISDIR(st.st_mode);
  facts.is_regular = S_ISREG(st.st_mode);
  return facts;
}

namespace {

// Reads up to `want` bytes from `offset`; fewer only at the end of the file. A negative libuv
// error when a read fails.
int read_at(int fd, std::string& into, std::uint64_t offset, std::size_t want) {
  into.resize(want);
  std::size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd, into.data() + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return last_error();
    if (n == 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  into.resize(got);
  return 0;
}

// Fills the result's file fields for the open regular file `fd` (ownership passes here). A body
// of at most kInlineFileBytes is read whole and the file closed; HEAD needs no body, so the file
// is closed after at most a sniff; a larger body keeps the file open for FileBody.
void take_file(ResolveResult& out, int fd, const FileFacts& facts, std::string_view type_name,
               bool want_bytes) {
  out.has_file = true;
  out.file = facts;
  std::optional<std::string_view> named = content_type_for_name(type_name);
  bool keep_open = want_bytes && facts.size > kInlineFileBytes;
  std::string bytes;
  std::size_t want = 0;
  if (want_bytes && !keep_open)
    want = static_cast<std::size_t>(facts.size);
  else if (!named)
    want = static_cast<std::size_t>(std::min<std::uint64_t>(facts.size, kSniffBytes));
  int rc = want > 0 ? read_at(fd, bytes, 0, want) : 0;
  if (keep_open)
    out.file_fd = fd;
  else
    ::close(fd);
  if (rc < 0) {
    out.read_error = rc;
    return;
  }
  out.content_type = named ? *named : sniff_content_type(bytes);
  if (want_bytes && !keep_open) {
    // The bytes read are the file as served: a file that changed size between fstat and read
    // is answered consistently with what was read, not with a length that can no longer be met.
    out.file.size = bytes.size();
    out.bytes = std::move(bytes);
  }
}

// A directory's index.html, used when it is a regular file inside the root. False otherwise,
// and nothing is left open.
bool take_index(ResolveResult& out, const ResolveInput& input, const std::string& real_root) {
  std::string name = out.real_path == "/" ? "/index.html" : out.real_path + "/index.html";
  int fd = open_file(name);
  if (fd < 0)
    return false;
  std::optional<std::string> real = descriptor_real_path(fd, name, input.proc_fd);
  struct stat st {};
  if (!real || !is_under_root(real_root, *real) || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return false;
  }
  take_file(out, fd, facts_from(st), "index.html", input.want_bytes);
  return true;
}

void list_directory(ResolveResult& out, int dir_fd, bool proc_fd) {
  out.listed = true;
  // The open descriptor's name, so the directory listed is the one that was checked.
  std::string name = proc_fd ? fmt::format("/proc/self/fd/{}", dir_fd) : out.real_path;
  uv_fs_t req;
  // Without a callback libuv runs the request synchronously on this thread; the loop is not
  // touched.
  int rc = uv_fs_scandir(nullptr, &req, name.c_str(), 0, nullptr);
  if (rc < 0) {
    out.list_error = rc;
  } else {
    uv_dirent_t entry;
    while (uv_fs_scandir_next(&req, &entry) != UV_EOF)
      out.entries.push_back({entry.name, entry.type == UV_DIRENT_DIR});
  }
  uv_fs_req_cleanup(&req);
}

} // namespace

std::optional<std::string> descriptor_real_path(int fd, const std::string& fallback, bool proc_fd) {
  if (proc_fd) {
    char link[32];
    auto link_end = fmt::format_to_n(link, sizeof link - 1, "/proc/self/fd/{}", fd);
    *link_end.out = '\0';
    char target[PATH_MAX + 1];
    ssize_t n = ::readlink(link, target, sizeof target);
    // A result that fills the buffer may be cut off; realpath then decides, as without /proc.
    if (n > 0 && static_cast<std::size_t>(n) < sizeof target && target[0] == '/')
      return std::string(target, static_cast<std::size_t>(n));
  }
  char* real =
      ::realpath(proc_fd ? fmt::format("/proc/self/fd/{}", fd).c_str() : fallback.c_str(), nullptr);
  if (real == nullptr)
    return std::nullopt;
  std::string result(real);
  std::free(real);
  return result;
}

ResolveResult resolve_request(const ResolveInput& input) {
  ResolveResult out;
  std::string real_root = input.real_root;
  if (real_root.empty()) {
    // The root did not exist at start-up; it may have been created since.
    char* real = ::realpath(input.root.c_str(), nullptr);
    if (real == nullptr) {
      out.root_missing = true;
      return out;
    }
    real_root = real;
    std::free(real);
    out.resolved_root = real_root;
  }
  int fd = open_file(input.fs_path);
  if (fd < 0) {
    out.open_error = last_error();
    return out;
  }
  // Resolving the open descriptor rather than the name checks the very file that will be read:
  // a symlink swapped in after the open cannot redirect the check.
  std::optional<std::string> real = descriptor_real_path(fd, input.fs_path, input.proc_fd);
  if (!real || !is_under_root(real_root, *real)) {
    ::close(fd);
    out.outside_root = true;
    return out;
  }
  out.real_path = std::move(*real);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.open_error = last_error();
    ::close(fd);
    return out;
  }
  out.target = facts_from(st);
  if (out.target.is_regular) {
    std::string_view type_name =
        input.type_name.empty() ? base_name(out.real_path) : std::string_view(input.type_name);
    take_file(out, fd, out.target, type_name, input.want_bytes);
    return out;
  }
  if (out.target.is_directory && input.want_index && !take_index(out, input, real_root))
    list_directory(out, fd, input.proc_fd);
  ::close(fd);
  return out;
}

} // namespace ofwatchdog::modes::static_files
