// Zero-copy file bodies; see file_sender.hpp.
#include "http/file_sender.hpp"
#include "util/invariant.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>

namespace ofwatchdog::http {

namespace {
// Close-on-exec, so that a child process started by another request never inherits them.
int duplicate(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return copy < 0 ? -errno : copy;
}

// cachestat(2), Linux 6.5. The C library headers of the build host may predate it; the number
// is the same on every architecture (the unified system-call table).
constexpr long kCachestatCall = 451;
struct CachestatRange {
  std::uint64_t off;
  std::uint64_t len;
};
struct Cachestat {
  std::uint64_t nr_cache;
  std::uint64_t nr_dirty;
  std::uint64_t nr_writeback;
  std::uint64_t nr_evicted;
  std::uint64_t nr_recently_evicted;
};

// Off for good once the kernel (or a seccomp filter) refuses cachestat.
std::atomic<bool> cachestat_usable{true};

std::int64_t call_sendfile(int socket, int file, std::int64_t offset, std::uint64_t length) {
  off_t at = offset;
  ssize_t n;
  do {
    n = ::sendfile(socket, file, &at, static_cast<std::size_t>(length));
  } while (n < 0 && errno == EINTR);
  // libuv's error codes on Linux are negated errno values.
  return n < 0 ? -errno : n;
}
} // namespace

bool FileSender::inline_calls_ = true;

bool FileSender::range_cached(std::uint64_t length) const {
  if (!inline_calls_ || !cachestat_usable.load(std::memory_order_relaxed))
    return false;
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  auto first = static_cast<std::uint64_t>(offset_);
  CachestatRange range{first, length};
  Cachestat stat{};
  if (::syscall(kCachestatCall, file_, &range, &stat, 0) != 0) {
    if (errno == ENOSYS || errno == EPERM)
      cachestat_usable.store(false, std::memory_order_relaxed);
    return false;
  }
  std::uint64_t pages = (first + length - 1) / page - first / page + 1;
  // Dirty and under-writeback pages are in the cache too, and reading them does not wait.
  return stat.nr_cache >= pages;
}

FileSender::FileSender(uv_loop_t* loop) : loop_(loop) {
  work_.data = this;
}

FileSender::~FileSender() {
  // Freed only after close()'s callback: anything still open here is a broken invariant.
  OFW_INVARIANT(!handles_open_ && !in_flight_ && socket_ < 0 && file_ < 0,
                "a file sender freed before its close callback ran");
}

int FileSender::open(uv_os_fd_t socket) {
  int copy = duplicate(socket);
  if (copy < 0)
    return copy;
  int rc = uv_poll_init(loop_, &poll_, copy);
  if (rc != 0) {
    ::close(copy);
    return rc;
  }
  socket_ = copy;
  poll_.data = this;
  handles_open_ = true;
  return 0;
}

void FileSender::set_inline_calls(bool allowed) {
  inline_calls_ = allowed;
}

int FileSender::start(uv_file file, std::uint64_t offset, std::uint64_t length, Progress progress,
                      Done done) {
  // One transfer at a time, on an open sender, and never while a call of a cancelled one is
  // still out (it owns the fields below until it returns). A connection whose transfer was
  // cancelled is closing, so it never starts another.
  OFW_INVARIANT(!active_ && !closing_ && handles_open_ && !in_flight_,
                "a file transfer started on a busy, closed or closing sender");
  if (length == 0)
    return UV_EINVAL; // nothing to send: the caller ends the body itself
  int copy = duplicate(file);
  if (copy < 0)
    return copy;
  active_ = true;
  file_ = copy;
  offset_ = static_cast<std::int64_t>(offset);
  remaining_ = length;
  progress_ = std::move(progress);
  done_ = std::move(done);
  asked_ = std::min(remaining_, kMaxPerCall);
  if (range_cached(asked_) && uv_poll_start(&poll_, UV_WRITABLE, &FileSender::on_poll) == 0) {
    // Callbacks must not run inside start(): the first call waits for the socket's writable
    // event (the next loop turn) and is made on the loop from there.
    polling_ = true;
    return 0;
  }
  starting_ = true;
  queue_call();
  starting_ = false;
  return 0;
}

void FileSender::queue_call() {
  if (remaining_ == 0) {
    finish(0);
    return;
  }
  asked_ = std::min(remaining_, kMaxPerCall);
  if (!starting_ && range_cached(asked_)) {
    call_inline();
    return;
  }
  in_flight_ = true;
  if (int rc = uv_queue_work(loop_, &work_, &FileSender::on_work, &FileSender::on_work_done);
      rc != 0) {
    in_flight_ = false;
    finish(rc);
  }
}

// On a pool thread: one sendfile call. It touches only our duplicates and the fields the loop
// leaves alone while `in_flight_` is set.
void FileSender::on_work(uv_work_t* req) {
  auto* self = static_cast<FileSender*>(req->data);
  self->result_ = call_sendfile(self->socket_, self->file_, self->offset_, self->asked_);
}

// On the loop: one sendfile call for a range that cachestat found in the page cache, into the
// non-blocking socket, so it neither reads the disk nor waits for the peer. A full write that
// leaves more to send comes back here through handle_result and queue_call; the loop below
// takes that turn instead of recursing, so the stack stays flat however fast the peer reads.
void FileSender::call_inline() {
  if (calling_inline_) {
    again_ = true;
    return;
  }
  calling_inline_ = true;
  do {
    again_ = false;
    ++inline_count_;
    handle_result(call_sendfile(socket_, file_, offset_, asked_));
  } while (again_ && active_ && !closing_);
  calling_inline_ = false;
}

void FileSender::on_work_done(uv_work_t* req, int status) {
  auto* self = static_cast<FileSender*>(req->data);
  self->in_flight_ = false;
  if (!self->active_ || self->closing_) {
    // Cancelled while the call was out: its result no longer matters.
    self->drop_file();
    self->maybe_closed();
    return;
  }
  self->handle_result(status == UV_ECANCELED ? std::int64_t{UV_ECANCELED} : self->result_);
}

void FileSender::handle_result(std::int64_t result) {
  if (result == UV_EAGAIN) {
    if (uv_poll_start(&poll_, UV_WRITABLE, &FileSender::on_poll) != 0) {
      finish(UV_EPIPE);
      return;
    }
    polling_ = true;
    return;
  }
  if (result < 0) {
    switch (result) {
    case UV_EINVAL:
    case UV_ENOSYS:
    case UV_ENOTSOCK:
    case UV_ENOTSUP:
    case UV_EXDEV:
      // This file (its file system cannot splice) or socket cannot be used with sendfile.
      finish(kUnsupported);
      return;
    default:
      finish(static_cast<int>(result));
      return;
    }
  }
  if (result == 0) {
    finish(UV_EOF); // the file is shorter than when it was measured
    return;
  }
  auto sent = static_cast<std::uint64_t>(result);
  offset_ += result;
  remaining_ -= std::min(sent, remaining_);
  // A copy: the progress callback may cancel this transfer (and so reset progress_).
  Progress progress = progress_;
  progress(sent);
  if (!active_ || closing_)
    return;
  if (remaining_ == 0) {
    finish(0);
    return;
  }
  if (sent < asked_) {
    // A short write means the socket buffer is full: wait until it has room again rather than
    // spending a pool thread on a call that would only return EAGAIN.
    handle_result(UV_EAGAIN);
    return;
  }
  queue_call();
}

void FileSender::on_poll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<FileSender*>(handle->data);
  uv_poll_stop(handle);
  self->polling_ = false;
  if (!self->active_ || self->closing_)
    return;
  if (status < 0) {
    // libuv reports an error condition on the socket (a reset) this way.
    self->finish(UV_EPIPE);
    return;
  }
  self->queue_call();
}

void FileSender::finish(int status) {
  active_ = false;
  drop_file();
  progress_ = nullptr;
  Done done = std::move(done_);
  done_ = nullptr;
  done(status);
}

void FileSender::cancel() {
  if (!active_)
    return;
  active_ = false;
  progress_ = nullptr;
  done_ = nullptr;
  if (polling_) {
    uv_poll_stop(&poll_);
    polling_ = false;
  }
  if (!in_flight_)
    drop_file();
}

void FileSender::drop_file() {
  // Our duplicate of a read-only file: closing it writes nothing back, so it does not block.
  if (file_ >= 0 && !in_flight_) {
    ::close(file_);
    file_ = -1;
  }
}

void FileSender::close(std::function<void()> closed) {
  if (closing_)
    return;
  cancel();
  closing_ = true;
  closed_ = std::move(closed);
  if (handles_open_) {
    // uv_close takes the descriptor out of epoll at once; the duplicate itself is closed in the
    // close callback, once libuv is done with the handle.
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &FileSender::on_poll_closed);
    return;
  }
  maybe_closed();
}

void FileSender::on_poll_closed(uv_handle_t* handle) {
  auto* self = static_cast<FileSender*>(handle->data);
  self->handles_open_ = false;
  self->maybe_closed();
}

void FileSender::maybe_closed() {
  if (!closing_ || handles_open_ || in_flight_)
    return;
  drop_file();
  if (socket_ >= 0) {
    // The last reference to the socket if the connection closed its own already: only now does
    // the peer see the connection end.
    ::close(socket_);
    socket_ = -1;
  }
  std::function<void()> closed = std::move(closed_);
  closed_ = nullptr;
  if (closed)
    closed();
}

bool FileSender::is_socket_error(int status) {
  switch (status) {
  case UV_EPIPE:
  case UV_ECONNRESET:
  case UV_ENOTCONN:
  case UV_ETIMEDOUT:
  case UV_EHOSTUNREACH:
  case UV_ENETUNREACH:
  case UV_ECONNABORTED:
  case UV_EBADF:
    return true;
  default:
    return false;
  }
}

} // namespace ofwatchdog::http
