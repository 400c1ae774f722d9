#pragma once
// Moves a byte range of a file to a connection's socket with sendfile(2), never blocking the
// loop and never copying the bytes through user space.
//
// Each sendfile call runs on libuv's thread pool (uv_queue_work), because reading the file may
// wait for the disk; the socket is non-blocking, so a call returns as soon as the socket buffer
// is full. Each call is bounded (kMaxPerCall) so one connection cannot hold a pool thread for
// long. After a short write, or EAGAIN, the sender waits for the socket to become writable with
// a uv_poll_t on a dup() of the socket: epoll registers (descriptor, open file) pairs, so the
// dup gets its own registration and leaves the uv_tcp_t's reading undisturbed.
//
// Why uv_queue_work with sendfile(2) rather than uv_fs_sendfile: libuv's version falls back to
// an emulation when sendfile fails with EINVAL/EIO/ENOTSOCK/EXDEV, and that emulation reads the
// file into user space and, on a full socket, blocks its pool thread in poll() until the client
// reads. Later libuv versions also try copy_file_range first, which fails with EINVAL on a
// socket and so always lands in that emulation. Calling sendfile(2) ourselves keeps every call
// non-blocking and lets the caller fall back to its own read path (`kUnsupported`).
//
// Descriptors. The sender works on its own duplicates: one of the socket (made once, kept until
// close) and one of the file (made per transfer). A cancelled transfer may still have a call on
// the thread pool; with duplicates, the connection may close its socket and the mode its file at
// once without the call ever touching a descriptor number that was closed and reused.
//
// A peer that reset the connection makes sendfile fail with EPIPE and raise SIGPIPE, exactly as
// the write queue's uv_write does: the process ignores SIGPIPE (the Watchdog sets that up).
//
// Ownership: one per connection, created on its first file body. `close` must be called before
// the object is destroyed; its callback runs once the poll handle is closed and no call is in
// flight, and only then may the object be freed.

#include <cstdint>
#include <functional>

#include <uv.h>

namespace ofwatchdog::http {

class FileSender {
public:
  // Bytes handed to the kernel by one call; reported before the next call starts.
  using Progress = std::function<void(std::uint64_t bytes)>;
  // Called once per transfer unless it is cancelled: 0 when every byte was sent; kUnsupported
  // when sendfile cannot be used for this file or socket (the bytes reported so far were sent,
  // the rest was not); UV_EOF when the file ended early; another negative libuv error otherwise
  // (is_socket_error tells the peer's errors from the file's).
  using Done = std::function<void(int status)>;

  static constexpr int kUnsupported = UV_ENOSYS;
  static constexpr std::uint64_t kMaxPerCall = 2u << 20;

  explicit FileSender(uv_loop_t* loop);
  ~FileSender();
  FileSender(const FileSender&) = delete;
  FileSender& operator=(const FileSender&) = delete;

  // Duplicates `socket` and prepares the poll handle. Returns 0 or a negative libuv error; on
  // error the sender is unusable (but `close` is still required).
  int open(uv_os_fd_t socket);
  // Starts a transfer; `busy()` must be false and `quiet()` true. Returns 0, or a negative libuv
  // error when nothing was started (no callback follows then). Progress and Done run later on the
  // loop, never from inside this call.
  int start(uv_file file, std::uint64_t offset, std::uint64_t length, Progress progress, Done done);
  // Ends the current transfer without calling its callbacks (a call in flight is let finish
  // and its result dropped).
  void cancel();
  // Cancels, then closes everything; `closed` runs once nothing is left on the loop.
  void close(std::function<void()> closed);

  // A transfer was started and has not ended or been cancelled.
  bool busy() const { return active_; }
  // Nothing of an earlier transfer is still on the thread pool or in epoll.
  bool quiet() const { return !in_flight_ && !polling_; }

  // A sendfile error that means the peer is gone rather than the file being unreadable.
  static bool is_socket_error(int status);

  // Whether a range found in the page cache may be sent from the loop (on by default; the
  // static mode's test switch turns it off with its own fast path).
  static void set_inline_calls(bool allowed);
  // sendfile calls made on the loop by this sender (tests read it).
  std::uint64_t inline_count() const { return inline_count_; }

private:
  static void on_work(uv_work_t* req);
  static void on_work_done(uv_work_t* req, int status);
  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_poll_closed(uv_handle_t* handle);
  void queue_call();
  void call_inline();
  bool range_cached(std::uint64_t length) const;
  void handle_result(std::int64_t result);
  void finish(int status);
  void drop_file();
  void maybe_closed();

  uv_loop_t* loop_;
  uv_poll_t poll_{};
  uv_work_t work_{};
  int socket_ = -1; // our duplicate
  int file_ = -1;   // our duplicate for the current transfer
  bool handles_open_ = false;
  bool active_ = false;
  bool in_flight_ = false;
  bool polling_ = false;
  bool closing_ = false;
  bool starting_ = false;       // inside start(), where no callback may run
  bool calling_inline_ = false; // inside call_inline's loop
  bool again_ = false;          // call_inline was asked for another turn
  std::uint64_t inline_count_ = 0;
  static bool inline_calls_;
  std::function<void()> closed_;
  Progress progress_;
  Done done_;

  // Owned by the call in flight while `in_flight_`; by the loop otherwise.
  std::int64_t offset_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t asked_ = 0;
  std::int64_t result_ = 0;
};

} // namespace ofwatchdog::http
