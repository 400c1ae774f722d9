#pragma once
// What a connection needs from the server that accepted it: the loop, the limits, the shared
// read buffer and Date header, the request callback, and a place to report its end. The server
// (ServerImpl) is the only implementation; the interface keeps connection.cpp from depending on
// how the server keeps its connections.

#include <memory>
#include <string_view>

#include <uv.h>

#include "http/server.hpp"

namespace ofwatchdog::http {

class Connection;

class ConnectionHost {
public:
  virtual uv_loop_t* loop() const = 0;
  virtual const ServerLimits& limits() const = 0;
  // The Date header's value for this second.
  virtual std::string_view date() = 0;
  // The server is draining: a connection accepted now closes at once.
  virtual bool draining() const = 0;
  // Where the next read lands; valid until the read callback returns (the loop runs one at a
  // time, so every connection shares one buffer and copies what it cannot parse at once).
  virtual uv_buf_t read_buffer() = 0;
  // Hands a request to the server's callback.
  virtual void dispatch(std::shared_ptr<ServerExchange> exchange) = 0;
  // The connection's handles have all closed: the host frees it.
  virtual void connection_closed(Connection* connection) = 0;
  // A request refused for its framing: `status` is the answer ("400 Bad Request"), `reason`
  // what was wrong.
  virtual void log_refusal(std::string_view remote, std::string_view status,
                           std::string_view reason) = 0;

protected:
  ~ConnectionHost() = default;
};

} // namespace ofwatchdog::http
