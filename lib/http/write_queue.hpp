#pragma once
// The bytes waiting to go out on one connection.
//
// Appends are copied into a few large buffers (small pieces are coalesced, so a chunk header, its
// data and its CRLF leave in one go). Nothing is written at once: the owner is told that bytes
// are pending and calls `flush` once the current loop turn's callbacks are over, so a head, its
// body and the end of a chunked response leave in one writev. `flush` first tries the socket
// directly (util::write_now) and only queues a uv_write for what the kernel did not take; a
// response that fits the socket buffer therefore costs one syscall and no write request (libuv
// follows every completed uv_write with an epoll_ctl). The owner decides how much it lets in:
// `queued()` counts pending and in-flight bytes.
//
// Large pieces (a body read of `kWriteThrough` bytes or more) are the exception: when no write is
// in flight they go to the socket at once, behind whatever is pending, straight from the caller's
// buffer, and only what the kernel did not take is copied. A proxied body then crosses user space
// without a copy, and the one read buffer it came from stays hot in the cache. Coalescing gains
// nothing for such pieces (they fill a writev on their own), and small writes, such as stream
// events, still wait for the end of the turn.

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

namespace ofwatchdog::http {

class WriteQueue {
public:
  // `on_written(status)` runs after each write completes (status < 0 on error, including
  // UV_ECANCELED when the stream is closed with writes pending); it is only ever called from
  // `flush` or from libuv's write callback, never from `write`. `on_pending()` runs when bytes
  // are waiting for a `flush` that the owner has not been asked for yet.
  WriteQueue(uv_stream_t* stream, std::function<void(int)> on_written,
             std::function<void()> on_pending);
  ~WriteQueue() = default;
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Queues a copy of `data` for the next `flush`.
  void write(std::string_view data);
  // The same, for bytes the caller has already assembled.
  void write(std::string&& data);
  // Queues the pieces in order as one write; written through at once when they are large (see
  // above). Nothing is reported from inside this call: a failed attempt leaves the bytes pending
  // and the next `flush` reports the error.
  void write(std::initializer_list<std::string_view> pieces);
  // Writes what is pending, unless a write is in flight (its completion goes on by itself).
  void flush();

  std::size_t queued() const { return pending_bytes_ + in_flight_bytes_; }
  bool idle() const { return queued() == 0; }
  // Drops everything not yet handed to the kernel (the connection is going away).
  void discard_pending();

private:
  struct Batch;
  static void on_write_done(uv_write_t* req, int status);
  void submit();
  void pending_added(std::size_t bytes);
  void append(std::string_view data);
  // Drops the first `taken` bytes of pending_ (the kernel took them); returns what is left of
  // `taken` beyond the pending bytes.
  std::size_t consume_pending(std::size_t taken);

  // Buffers grow up to this size by coalescing; larger appends get a buffer of their own.
  static constexpr std::size_t kCoalesceLimit = 64 * 1024;

public:
  // Pieces at least this large are written through when nothing is in flight.
  static constexpr std::size_t kWriteThrough = 16 * 1024;

private:
  uv_stream_t* stream_;
  std::function<void(int)> on_written_;
  std::function<void()> on_pending_;
  std::vector<std::string> pending_;
  std::size_t pending_bytes_ = 0;
  std::size_t in_flight_bytes_ = 0;
  bool in_flight_ = false;
  bool flush_requested_ = false;
};

} // namespace ofwatchdog::http
