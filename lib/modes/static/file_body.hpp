#pragma once
// Sends a byte range of an open file as an exchange's response body.
//
// Two ways, chosen in `start`:
// - Zero-copy: when the range is longer than kChunkBytes and the exchange accepts
//   `Exchange::send_file` (the server's exchanges do, and so does any wrapper of them), the
//   connection moves the bytes with sendfile(2) once the head is written; they never enter user
//   space, and nothing is held here but the callback.
// - Reading: otherwise, and as the fallback when sendfile cannot be used for the file (the
//   exchange reports kTransferUnsupported; reading goes on from the first unsent byte). A chunk is
//   read (uv_fs_read, on libuv's thread pool), handed to `send_body`, and the next read starts
//   only when the exchange has room again (`send_body` returned true, or `on_writable` came). At
//   most one chunk is held.
// Either way a file of any size is served in constant memory.
//
// Why small ranges are read: a range of at most one chunk is read once and handed to
// `send_body` while the head is still in the write queue, so head and body leave in one write.
// Through sendfile the same bytes would cost the head its own write, a round trip to the thread
// pool after it, two descriptor duplicates and a second TCP segment: more work, not less, for
// bytes that fit in one buffer anyway.
//
// This is the only code that moves file bytes, behind three calls (`start`, `on_writable`,
// `stop`) and one callback.

#include <cstdint>
#include <functional>
#include <memory>

#include <uv.h>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::modes::static_files {

class FileBody {
public:
  // Called exactly once: with 0 after the last byte was queued, with a negative libuv error when
  // a read failed (UV_EOF if the file shrank under us), or with UV_ECANCELED after `stop`. After
  // it the object holds nothing on the loop and may be destroyed (not from inside the call).
  using Done = std::function<void(int status)>;

  static constexpr std::size_t kChunkBytes = 64 * 1024;

  FileBody(uv_loop_t* loop, Exchange& exchange, uv_file fd, std::uint64_t offset,
           std::uint64_t length, Done done);
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;

  void start();
  // The exchange can take more after `send_body` returned false.
  void on_writable();
  // No more reads. `Done` follows with UV_ECANCELED, at once or when the read in flight returns.
  // A transfer by the connection ends at once: stop is only called once the exchange is over,
  // and the connection drops the transfer then (it works on its own descriptor duplicates).
  void stop();

private:
  static void on_read(uv_fs_t* req);
  bool try_send_file();
  void on_file_sent(int status, std::uint64_t sent);
  void read_next();
  void handle_read(ssize_t result);
  void end(int status);

  uv_loop_t* loop_;
  Exchange& exchange_;
  uv_file fd_;
  std::uint64_t offset_;
  std::uint64_t remaining_;
  Done done_;
  std::unique_ptr<char[]> buffer_; // allocated on the first read
  uv_fs_t req_{};
  bool reading_ = false;     // a uv_fs_read is in flight
  bool sending_ = false;     // the connection is sending the range with sendfile
  bool waiting_ = false;     // paused until on_writable
  bool in_delivery_ = false; // inside send_body, which may cancel the exchange re-entrantly
  bool stopped_ = false;
  bool ended_ = false;
};

} // namespace ofwatchdog::modes::static_files
