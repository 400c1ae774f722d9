#pragma once
// Streams a byte range of an open file into an exchange's response, one chunk at a time.
//
// Pull-based backpressure: a chunk is read (uv_fs_read, on libuv's thread pool), handed to
// `send_body`, and the next read starts only when the exchange has room again (`send_body`
// returned true, or `on_writable` came). At most one chunk is held, so a file of any size is
// served in constant memory.
//
// This is the only code that moves file bytes to the socket, behind three calls (`start`,
// `on_writable`, `stop`) and one callback. A zero-copy version built on `uv_fs_sendfile` into
// the connection's socket can replace it without the rest of the mode changing.

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
  void stop();

private:
  static void on_read(uv_fs_t* req);
  void read_next();
  void handle_read(ssize_t result);
  void end(int status);

  uv_loop_t* loop_;
  Exchange& exchange_;
  uv_file fd_;
  std::uint64_t offset_;
  std::uint64_t remaining_;
  Done done_;
  std::unique_ptr<char[]> buffer_;
  uv_fs_t req_{};
  bool reading_ = false;     // a uv_fs_read is in flight
  bool waiting_ = false;     // paused until on_writable
  bool in_delivery_ = false; // inside send_body, which may cancel the exchange re-entrantly
  bool stopped_ = false;
  bool ended_ = false;
};

} // namespace ofwatchdog::modes::static_files
