#pragma once
// An HTTP/1.1 server on one libuv loop: the listener and its connections.
//
// The server owns the protocol: parsing (llhttp, strict), keep-alive, pipelining in order,
// chunked bodies, `Expect: 100-continue`, HEAD, HTTP/1.0, `Date`, the 1 MiB header limit (431),
// malformed input (400 and close), `OPTIONS *`, the 301 to a cleaned path, and the read, write
// and idle timeouts. Every request whose head parsed cleanly reaches `RequestCallback` as an
// Exchange; the callback decides what answers it.
//
// How the server treats an exchange (what a mode can rely on):
// - Requests on a connection are served one at a time. The next request is not parsed before
//   the current response has been written out, so pipelined responses keep their order.
// - The body is delivered only after `set_handler`; `100 Continue` is sent then, unless a head
//   was sent first (the connection then closes after the response if the body never came).
//   After `finish` or `abort` nothing more is delivered to the handler. A body left unread by a
//   finished response is discarded (up to 256 KiB) to keep the connection, else it is closed.
// - `on_done` callbacks run when `finish`, `abort` or the cancellation happens; the bytes of a
//   finished response may still be in the write queue then.
// - Cancellations (`ExchangeHandler::on_cancel`), after which the connection is closed at once:
//   * client_closed: the peer closed (even half-closed, as Go treats it) or reset the
//     connection, or a write failed;
//   * bad_request: the rest of the body (chunk framing, extensions, trailers) was malformed.
//     If the mode had not sent a head yet, the server answers 400 itself, then closes;
//   * read_timeout: `read_timeout` passed before the end of the body. The body simply stops:
//     the handler gets on_cancel(read_timeout) instead of on_body_end and cannot answer any
//     more. (Go lets a handler still answer after a body read error; matching that would need
//     a body-error callback in ExchangeHandler.)
//   * write_timeout: `write_timeout` (from the end of the head) passed before the response was
//     written out;
//   * shutdown: `close()`.
// - Framing comes only from `ResponseHead::content_length` (Content-Length when set; otherwise
//   chunked, or close-delimited for HTTP/1.0). Unlike Go there is no automatic Content-Length
//   for short bodies: a mode that buffers should set the length.
// - Responses to HTTP/1.1 requests that end the connection say `Connection: close`; HTTP/1.0
//   keep-alive responses say `Connection: keep-alive`. A `Connection: close` header given by
//   the handler closes the connection after the response.
// - Upgrade (and CONNECT) requests reach the callback as usual; everything the client sends after
//   the head (and after the body, if it declared one) is not HTTP. Answered with anything but
//   101 (or over HTTP/1.0), the response is ordinary and the connection closes after it; those
//   bytes are never parsed. Methods llhttp does not know get 400.
// - A 101 to an upgrade request makes the exchange a tunnel:
//   * the head keeps the handler's `Connection` and `Upgrade` headers (`Connection: Upgrade` is
//     added if missing) and has no Content-Length or Transfer-Encoding;
//   * `send_body` writes raw bytes (no chunk framing), with the usual high-water mark and
//     `on_writable`;
//   * the body becomes the tunnel: `on_body` delivers the client's raw bytes (those that came
//     with the head first), under `pause_body` / `resume_body`, until the client half-closes or
//     closes, then `on_body_end`. If the request's own end was delivered before the 101 (a mode
//     that sent the 101 later, as the http mode does), this is a second `on_body_end`; a 101
//     sent before the request ended suppresses that first one. Modes that never send 101 see
//     no change. A half-close is not a cancellation in a tunnel;
//   * `finish()` flushes the queue, then shuts the socket down and closes it; `abort()` closes
//     it at once; a reset or failed write cancels with client_closed;
//   * no read, write or idle timeout applies any more (the mode bounds the tunnel). `drain`
//     treats a tunnel as busy, so it waits until the tunnel ends or `close()` cuts it
//     (CancelReason::shutdown).
// - Kernel-moved bodies (Exchange::send_file, splice_from, splice_body_to): a file range as the
//   rest of a Content-Length body (sendfile, after the head is flushed), a pipe as the rest of a
//   streamed body, a Content-Length request body into a pipe (splice). They run under the same
//   read and write timeouts, cancellation and drain rules as the ordinary calls, and the
//   connection carries the next request afterwards as usual.
// - `idle_timeout` <= 0 keeps idle keep-alive connections; Go uses `read_timeout` for it, so the
//   watchdog passes that.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"

struct uv_loop_s;

namespace ofwatchdog::http {

struct ServerLimits {
  Duration read_timeout{0};  // <= 0: no deadline for receiving a request
  Duration write_timeout{0}; // <= 0: no deadline for writing a response
  Duration idle_timeout{0};  // <= 0: idle keep-alive connections are kept
  std::size_t max_header_bytes = (1u << 20) + 4096;
  // Descriptors kept free for the connections already accepted: a client is accepted only while
  // more than this many are free (acceptor.hpp). Enough for a few requests to open what they
  // need (a function's three pipes take six while it starts).
  std::size_t spare_descriptors = 16;
};

// An exchange as the server hands it out: an Exchange plus a hook for whoever needs to know
// when it has ended (metrics, the in-flight limiter, the drain).
class ServerExchange : public Exchange {
public:
  // Called once, on the loop, when the exchange ends by finish, abort or cancellation.
  virtual void on_done(std::function<void(const Exchange&)> callback) = 0;
};

using RequestCallback = std::function<void(std::shared_ptr<ServerExchange>)>;

class ServerImpl;

class Server {
public:
  Server(uv_loop_s* loop, ServerLimits limits, RequestCallback on_request);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on `port` (0 picks a free one) on all interfaces, IPv6 and IPv4 where
  // available. Returns 0 or a negative libuv error code.
  int listen(int port);
  // The bound port, once listening.
  int port() const;

  // Graceful: stop accepting (the listener is closed), close idle connections now, and close
  // every other connection once its current response is complete. `done` runs when no
  // connection is left.
  void drain(std::function<void()> done);
  // Forceful: cancel every exchange (CancelReason::shutdown) and close every connection and the
  // listener. `done` runs once all of their handles are closed.
  void close(std::function<void()> done);

  std::size_t connection_count() const;

  // Receives one line for each request the server refuses itself for its framing (400, 431,
  // 501), naming the peer and what was wrong. Without it, refusals are not logged.
  void set_refusal_log(std::function<void(std::string_view line)> log);

private:
  std::unique_ptr<ServerImpl> impl_;
};

} // namespace ofwatchdog::http
