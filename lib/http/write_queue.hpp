#pragma once
// The bytes waiting to go out on one connection.
//
// Appends are copied into a few large buffers (small pieces are coalesced, so a chunk header, its
// data and its CRLF leave in one go), and whatever is pending goes out as one uv_write with one
// iovec per buffer while no other write is in flight. The owner decides how much it lets in:
// `queued()` counts pending and in-flight bytes.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

namespace ofwatchdog::http {

class WriteQueue {
public:
  // `on_written(status)` runs after each write completes (status < 0 on error, including
  // UV_ECANCELED when the stream is closed with writes pending).
  WriteQueue(uv_stream_t* stream, std::function<void(int)> on_written);
  ~WriteQueue() = default;
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Queues a copy of `data` and starts a write if none is in flight.
  void write(std::string_view data);
  // The same, for bytes the caller has already assembled.
  void write(std::string&& data);

  std::size_t queued() const { return pending_bytes_ + in_flight_bytes_; }
  bool idle() const { return queued() == 0; }
  // Drops everything not yet handed to the kernel (the connection is going away).
  void discard_pending();

private:
  struct Batch;
  static void on_write_done(uv_write_t* req, int status);
  void submit();

  // Buffers grow up to this size by coalescing; larger appends get a buffer of their own.
  static constexpr std::size_t kCoalesceLimit = 64 * 1024;

  uv_stream_t* stream_;
  std::function<void(int)> on_written_;
  std::vector<std::string> pending_;
  std::size_t pending_bytes_ = 0;
  std::size_t in_flight_bytes_ = 0;
  bool in_flight_ = false;
};

} // namespace ofwatchdog::http
