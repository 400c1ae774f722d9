#pragma once
// An internal capability of the server's exchanges (not part of the public Exchange contract):
// the rest of a response body sent straight from a file to the socket, without the bytes
// passing through user space.
//
// A mode obtains it with `dynamic_cast<http::FileResponder*>(&exchange)`; an exchange that is not
// the server's own (a test double, or one wrapped by another exchange) simply does not have it,
// and the mode streams the file through `send_body` instead. The static mode is the user.
//
// The server (the connection owns the socket) waits until the head and everything queued before
// it are written, then moves the bytes with sendfile(2) on libuv's thread pool (see
// file_sender.hpp). Everything else about the exchange stays as before: `write_timeout` runs
// from the head and cancels a transfer that takes too long, a client that goes away cancels it
// (`on_cancel(client_closed)`), `close()` cancels it (`shutdown`), `drain` waits for it, and after
// it the connection carries the next request as usual. `body_bytes_sent` grows as bytes are
// handed to the kernel.

#include <cstdint>
#include <functional>

#include <uv.h>

namespace ofwatchdog::http {

class FileResponder {
public:
  // status 0: all `length` bytes were sent; the caller ends the response with `finish`.
  // status kFileUnsupported: sendfile cannot be used here; `sent` bytes went out, and the caller
  //   sends the rest itself (send_body) from `offset + sent`.
  // Another negative libuv error (UV_EOF when the file is shorter than `offset + length`): the
  //   file could not be read; `sent` bytes went out and the caller should `abort`.
  // Not called when the exchange is cancelled or the handler ends it first: `on_cancel` (or the
  // handler's own finish/abort) is the end then.
  using FileDone = std::function<void(int status, std::uint64_t sent)>;

  static constexpr int kFileUnsupported = UV_ENOSYS;

  // True when `send_file` may be called now: a head with a Content-Length was sent, the response
  // carries a body (not HEAD, 204 or 304), it is not a tunnel, the exchange is not over and no
  // other file transfer is running on it.
  virtual bool can_send_file() const = 0;

  // Sends `length` (> 0) bytes of `fd` starting at `offset` as the next body bytes. They must fit
  // in what the Content-Length still allows. Until `done` runs the caller must not call
  // `send_body` or `finish` (abort is allowed and cancels the transfer). `fd` is duplicated, so the
  // caller may close its descriptor whenever it likes. `done` never runs inside this call.
  virtual void send_file(uv_file fd, std::uint64_t offset, std::uint64_t length, FileDone done) = 0;

protected:
  ~FileResponder() = default;
};

} // namespace ofwatchdog::http
