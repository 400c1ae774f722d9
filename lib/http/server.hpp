#pragma once
// An HTTP/1.1 server on one libuv loop: the listener and its connections.
//
// The server owns the protocol: parsing (llhttp, strict), keep-alive, pipelining in order,
// chunked bodies, `Expect: 100-continue`, HEAD, HTTP/1.0, `Date`, the 1 MiB header limit (431),
// malformed input (400 and close), `OPTIONS *`, the 301 to a cleaned path, and the read, write
// and idle timeouts. Every request whose head parsed cleanly reaches `RequestCallback` as an
// Exchange; the callback decides what answers it.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"

struct uv_loop_s;

namespace ofwatchdog::http {

struct ServerLimits {
  Duration read_timeout{0};  // <= 0: no deadline for receiving a request
  Duration write_timeout{0}; // <= 0: no deadline for writing a response
  Duration idle_timeout{0};  // <= 0: idle keep-alive connections are kept
  std::size_t max_header_bytes = (1u << 20) + 4096;
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

private:
  std::unique_ptr<ServerImpl> impl_;
};

} // namespace ofwatchdog::http
