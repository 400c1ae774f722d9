#pragma once
// One HTTP request and its response, as a mode sees them.
//
// The server parses the request head, then hands an `Exchange` to the mode. The mode reads the
// body as a stream (with backpressure: `pause_body` / `resume_body`) and writes the response as
// a stream (with backpressure: `send_body` returns false when the socket is behind, and
// `ExchangeHandler::on_writable` says when to go on). Everything happens on the watchdog's libuv
// loop thread; no method may be called from another thread.
//
// Example: a handler that echoes the body back. Its request owns it: `serve_with<Echo>(exchange)`
// (handler_mode.hpp) makes it and destroys it once the exchange has ended (here by `finish`, or
// by a cancellation); a handler never deletes itself. A mode's own request objects derive from
// RequestJob instead (request_job.hpp), whose mode's registry owns them.
//
//   class Echo : public ExchangeHandler {
//    public:
//     explicit Echo(std::shared_ptr<Exchange> ex) : ex_(std::move(ex)) {
//       ex_->set_handler(this);                      // starts the body (and 100-continue)
//       ex_->send_head({200, {{"Content-Type", "text/plain"}}, std::nullopt});
//     }
//     void on_body(std::string_view data) override {
//       if (!ex_->send_body(data)) ex_->pause_body(); // socket behind: stop reading
//     }
//     void on_writable() override { ex_->resume_body(); }
//     void on_body_end() override { ex_->finish(); }
//     void on_cancel(CancelReason) override {}
//    private:
//     std::shared_ptr<Exchange> ex_;
//   };

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ofwatchdog/export.hpp"

struct uv_loop_s;

namespace ofwatchdog {

struct OFWATCHDOG_API Header {
  std::string name;
  std::string value;
};
using HeaderList = std::vector<Header>;

// Case-insensitive lookup of the first header with this name, or nullptr.
OFWATCHDOG_API const std::string* find_header(const HeaderList& headers, std::string_view name);

struct OFWATCHDOG_API Request {
  std::string method;    // as sent, e.g. "GET"
  std::string target;    // the raw request-target, e.g. "/a%20b?x=1"
  std::string path;      // the percent-decoded path, e.g. "/a b"
  std::string raw_query; // the text after '?', still encoded; empty when there is none
  int version_major = 1;
  int version_minor = 1;
  HeaderList headers;                          // in arrival order, names as sent, `Host` included
  std::optional<std::uint64_t> content_length; // from Content-Length, when present
  bool chunked = false;                        // Transfer-Encoding: chunked
  std::string remote_address;                  // peer "ip:port"

  const std::string* header(std::string_view name) const { return find_header(headers, name); }
  bool has_body() const { return chunked || (content_length && *content_length > 0); }
};

struct OFWATCHDOG_API ResponseHead {
  int status = 200;
  HeaderList headers;
  // The body's length when known before it is sent. Without it the body is streamed:
  // chunked for HTTP/1.1 clients, delimited by closing the connection for HTTP/1.0 ones.
  std::optional<std::uint64_t> content_length;
};

enum class CancelReason {
  client_closed, // the peer closed or reset the connection
  bad_request,   // the rest of the request (its chunked body or trailers) was malformed
  read_timeout,  // the request body did not arrive within `read_timeout`
  write_timeout, // the response could not be written within `write_timeout`
  shutdown,      // the watchdog is exiting and the drain period is over
  exec_timeout,  // an in-process handler ran past `exec_timeout` (or the request's X-Timeout)
  // The body passed `max_body_size` while an in-process handler read it: the watchdog answered
  // 413 (or cut the response short). Last, so that the earlier values keep their numbers.
  body_too_large,
};

OFWATCHDOG_API std::string_view cancel_reason_text(CancelReason reason);

// Implemented by whoever serves a request; called by the exchange on the loop thread.
class OFWATCHDOG_API ExchangeHandler {
public:
  virtual ~ExchangeHandler() = default;

  // A piece of the request body (de-chunked). The view is valid only during the call.
  virtual void on_body(std::string_view data) = 0;
  // The whole body has arrived (also called at once for a request without a body).
  virtual void on_body_end() = 0;
  // The queue of response bytes fell below the low-water mark after `send_body` returned false.
  virtual void on_writable() {}
  // The exchange is over without `finish` or `abort` having been called. The handler must stop
  // using the exchange's response side; nothing is called on the handler after this.
  virtual void on_cancel(CancelReason reason) = 0;
};

class OFWATCHDOG_API Exchange {
public:
  virtual ~Exchange() = default;

  virtual const Request& request() const = 0;
  virtual uv_loop_s* loop() const = 0;

  // Starts delivering the body to `handler` (sending `100 Continue` first when the client asked
  // for it, unless `defer_continue` was called). Calling it with nullptr detaches the handler:
  // nothing more is delivered to it.
  virtual void set_handler(ExchangeHandler* handler) = 0;

  // --- Expect: 100-continue ------------------------------------------------------------
  // A client that sent `Expect: 100-continue` holds its body back until it is told to go on.
  // By default `set_handler` tells it. A handler that passes the request to another server,
  // whose own answer to the expectation should reach the client, calls `defer_continue` before
  // `set_handler` instead: it returns true when the client is waiting (a request with a body,
  // HTTP/1.1, expecting 100-continue), and from then on the `100 Continue` goes out only when
  // the handler calls `send_continue`. A final response sent meanwhile answers the expectation
  // too: the client never sends its body, so the connection ends with that response.
  // The defaults suit exchanges without a client waiting: false, and nothing to send.
  virtual bool defer_continue() { return false; }
  // Sends `100 Continue` if the client is still waiting for it and no response has begun; at
  // most once, and nothing otherwise.
  virtual void send_continue() {}

  // Stop / restart reading the request body from the socket. Data that was already read in
  // the current buffer (at most one read buffer, 64 KiB) may still be delivered after a pause.
  virtual void pause_body() = 0;
  virtual void resume_body() = 0;

  // Commits the status and headers. `Date` is added unless present; `Content-Length` and
  // `Transfer-Encoding` are derived from `head.content_length` and must not be in the list.
  virtual void send_head(ResponseHead head) = 0;
  // Queues body bytes (copied). Returns false when the queue is above its high-water mark:
  // the producer should stop until `on_writable`. Bytes are still accepted when it is false.
  virtual bool send_body(std::string_view data) = 0;
  // Ends the response cleanly (terminating chunk). Sends a head with 200 first if none was sent.
  virtual void finish() = 0;
  // Ends the response so the client can tell it is incomplete: if no head was sent yet, the
  // connection is closed with nothing; otherwise without the terminating chunk, then closed.
  virtual void abort() = 0;

  // --- Bodies the kernel moves ---------------------------------------------------------
  // Besides the bytes `send_body` copies, a response body can come from a file or a pipe, and
  // a request body can go straight into a pipe, without passing through user space (sendfile
  // and splice). Each call returns false when this exchange cannot do it now, and then nothing
  // has happened: the caller goes on with the ordinary calls. So they are always safe to try.
  // The defaults here return false; the server's exchanges implement them; an exchange that
  // wraps another (ForwardingExchange) passes them through, so a wrapper keeps the fast paths.
  //
  // A transfer that was accepted ends with its `TransferDone`, never inside the call that
  // started it: `status` 0 when it completed, a negative libuv error otherwise, and `moved` the
  // bytes it moved. It is not called when the exchange ends first (cancellation, or the
  // handler's own `abort`), nor when the client's side failed: the exchange is then cancelled
  // with `client_closed` instead, as for a failed write.
  using TransferDone = std::function<void(int status, std::uint64_t moved)>;
  // What `send_file` reports when the kernel cannot send from this file: `moved` bytes went
  // out, and the caller sends the rest itself (send_body) from `offset + moved`.
  static constexpr int kTransferUnsupported = -38; // UV_ENOSYS

  // The next `length` (> 0) body bytes from `fd` at `offset`. Needs a sent head with a
  // Content-Length that still allows `length` bytes, a response with a body, and no other
  // transfer running. Until `done`, the caller must not call `send_body` or `finish` (`abort`
  // cancels the transfer). `fd` is duplicated: the caller may close it whenever it likes.
  // Status UV_EOF: the file is shorter than `offset + length`.
  virtual bool send_file(int fd, std::uint64_t offset, std::uint64_t length, TransferDone done) {
    (void)fd, (void)offset, (void)length, (void)done;
    return false;
  }
  // The rest of the response body from `pipe_fd` until it ends. Needs a sent head without a
  // Content-Length (the body is chunked, or ends with the connection) and nothing of the body
  // still queued: false while earlier bytes are being written, so try again after them. Until
  // `done`, the caller must not read the pipe, nor call `send_body` or `finish`. Status 0: the
  // pipe ended and its bytes are on the wire (`finish` follows); negative: reading the pipe
  // failed, and the caller should `abort`.
  virtual bool splice_from(int pipe_fd, TransferDone done) {
    (void)pipe_fd, (void)done;
    return false;
  }
  // The rest of the request body into `pipe_fd`, instead of `on_body` / `on_body_end`: for a
  // Content-Length body, after `set_handler`; what was already delivered stays delivered. If the
  // pipe stops taking bytes (its reader closed it), the rest of the body is read and dropped so
  // that the client can get its answer; status 0 either way. `fd` is duplicated; the caller closes
  // its own once `done` has run (the reader then sees the end of its input).
  virtual bool splice_body_to(int pipe_fd, TransferDone done) {
    (void)pipe_fd, (void)done;
    return false;
  }

  virtual bool head_sent() const = 0;
  // Status sent with the head, 0 before the head is sent.
  virtual int status() const = 0;
  // Body bytes accepted by `send_body` so far.
  virtual std::uint64_t body_bytes_sent() const = 0;
  // True once finish, abort or cancellation has ended the exchange.
  virtual bool done() const = 0;
};

// A whole response at once: the head with its Content-Length, the body (if any) in one piece,
// the end. For the small answers a server or a mode makes itself (probes, refusals, metrics,
// control endpoints), where send_body's backpressure does not matter: nothing follows.
inline void send_whole_response(Exchange& exchange, int status, HeaderList headers,
                                std::string_view body) {
  exchange.send_head({status, std::move(headers), body.size()});
  if (!body.empty())
    exchange.send_body(body);
  exchange.finish();
}

} // namespace ofwatchdog
