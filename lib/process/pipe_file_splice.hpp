#pragma once
// Moves bytes between a pipe and a file with splice(2), so that they never enter user space: a
// held request body from its in-memory file into a function's stdin, or the function's stdout
// into the in-memory file that holds its output (the serializing mode, docs/serializing.md).
//
// Only the pipe can make a call wait, so only the pipe is watched, with a uv_poll_t on a
// duplicate of its descriptor: epoll registers (descriptor, open file) pairs, so the duplicate
// gets its own registration and leaves the uv_pipe_t that owns the original undisturbed (whose
// own reading or writing must be stopped while this runs). A file is never polled (epoll refuses
// regular files), and a call on an in-memory file never waits for a disk. Every call is
// non-blocking: SPLICE_F_NONBLOCK covers the pipe, and the pipe is O_NONBLOCK for the fallback.
//
// When the kernel refuses splice for these descriptors (EINVAL, ENOSYS: a file system without
// it, a seccomp filter), the rest is moved with read/pwrite or pread/write through a 64 KiB
// buffer instead, so a transfer never has to be handed back half done.
//
// Pipe to file, the kernel copies each pipe page into the file's page cache once (read and
// pwrite copied twice, through a buffer). File to pipe, the pipe takes references to the file's
// pages and copies nothing: the file's bytes must not change until the reader has them, which
// holds for a held body, only ever appended to. A part of the file punched out or truncated
// meanwhile does not change what the pipe holds.
//
// Ownership: `close` must be called before destruction; its callback runs once the poll handle
// has closed (the duplicate is closed then), and only then may the object be freed. The file's
// descriptor is the caller's, and must stay open until `done` or `close`.

#include <cstdint>
#include <functional>

#include <uv.h>

#include "util/transfer_life.hpp"

namespace ofwatchdog::process {

class PipeFileSplice {
public:
  enum class Direction : std::uint8_t {
    file_to_pipe, // `length` bytes of the file from `offset` into the pipe
    pipe_to_file, // the pipe, until its writers have all closed it, into the file from `offset`
  };
  struct Options {
    Direction direction = Direction::file_to_pipe;
    int pipe = -1; // duplicated
    int file = -1; // used as is
    std::uint64_t offset = 0;
    std::uint64_t length = 0; // file_to_pipe only
  };
  // Bytes moved by one call, after the call.
  using Progress = std::function<void(std::uint64_t bytes)>;
  // 0: `length` bytes moved (file_to_pipe), or the pipe ended (pipe_to_file). Otherwise a
  // negative libuv error: UV_EPIPE when the pipe lost its reader, UV_EOF when the file was
  // shorter than `length`, another when the file took no more (no memory left for it); the bytes
  // not reported by `Progress` were not moved and are still where they were. Never called from
  // inside `start` or after `close`.
  using Done = std::function<void(int status)>;

  explicit PipeFileSplice(uv_loop_t* loop);
  ~PipeFileSplice();
  PipeFileSplice(const PipeFileSplice&) = delete;
  PipeFileSplice& operator=(const PipeFileSplice&) = delete;

  // Duplicates the pipe's descriptor and starts watching it. Returns 0, or a negative libuv error
  // when nothing was started (no callback follows; `close` is still required).
  int start(Options options, Progress progress, Done done);
  // Stops at once; `closed` runs later, from the loop, once the duplicate is closed (at once
  // when `start` failed before opening anything, or never ran).
  void close(std::function<void()> closed);

  // splice(2) calls made so far (for tests and profiling).
  std::uint64_t splice_calls() const { return splice_calls_; }
  // Whether the bytes are being copied through user space (splice was refused).
  bool copying() const { return !splice_ok_; }

  // Tests only: whether transfers started from now on try splice(2) at all (true by default), so
  // the copying fallback can be exercised.
  static void set_splice_allowed_for_testing(bool allowed);

private:
  using Life = util::TransferLife::Stage;

  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_closed(uv_handle_t* handle);
  void pump();
  // One call; false when the transfer waits for the pipe or ended.
  bool step();
  // The call itself: splice, or the copy that stands in for it. Returns what splice would.
  ssize_t move(std::uint64_t want);
  ssize_t copy(std::uint64_t want);
  void finish(int status);

  uv_loop_t* loop_;
  uv_poll_t poll_{};
  int pipe_ = -1; // our duplicate
  int file_ = -1;
  Direction direction_ = Direction::file_to_pipe;
  util::TransferLife life_{"an illegal move of a pipe splice's life"};
  int poll_errors_ = 0;
  bool splice_ok_ = true; // splice(2) works for these descriptors (else read and write)
  std::uint64_t offset_ = 0;
  std::uint64_t left_ = 0; // file_to_pipe: bytes still to move
  std::uint64_t splice_calls_ = 0;
  Progress progress_;
  Done done_;
  std::function<void()> closed_;
};

} // namespace ofwatchdog::process
