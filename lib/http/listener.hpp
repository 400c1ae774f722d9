#pragma once
// The server's shared state: the listening socket, the set of live connections, the read buffer
// and the Date cache.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>

#include <uv.h>

#include "http/acceptor.hpp"
#include "http/http_date.hpp"
#include "http/server.hpp"

namespace ofwatchdog::http {

class Connection;

class ServerImpl {
public:
  ServerImpl(uv_loop_t* loop, ServerLimits limits, RequestCallback on_request);
  ServerImpl(const ServerImpl&) = delete;
  ServerImpl& operator=(const ServerImpl&) = delete;

  int listen(int port);
  int port() const;
  void drain(std::function<void()> done);
  void close(std::function<void()> done);
  std::size_t connection_count() const { return connections_.size(); }
  // Whether handles are still open (the owner must keep this object until they close).
  bool busy() const { return acceptor_.busy() || !connections_.empty(); }
  // The Server was destroyed with handles open: free this object once they have closed.
  void orphan() { orphaned_ = true; }

  // --- for connections ------------------------------------------------------------------
  uv_loop_t* loop() const { return loop_; }
  const ServerLimits& limits() const { return limits_; }
  std::string_view date() { return dates_.now(); }
  bool draining() const { return draining_; }
  // One read buffer for every connection: the loop runs one read callback at a time, and each
  // connection copies what it cannot parse at once.
  uv_buf_t read_buffer() { return uv_buf_init(read_buffer_.get(), kReadBufferSize); }
  void dispatch(std::shared_ptr<ServerExchange> exchange);
  void connection_closed(Connection* connection);
  void set_refusal_log(std::function<void(std::string_view)> log) { refusal_log_ = std::move(log); }
  // A request refused for its framing: `status` is the answer ("400 Bad Request"), `reason`
  // what was wrong.
  void log_refusal(std::string_view remote, std::string_view status, std::string_view reason);

  static constexpr unsigned kReadBufferSize = 64 * 1024;

private:
  // A client the acceptor took from the backlog.
  void on_accepted(int fd);
  // What drain and close share: stop accepting, end every connection with `end_connection`,
  // and run `done` once none is left.
  void stop(std::function<void()> done, void (Connection::*end_connection)());
  void check_finished();

  uv_loop_t* loop_;
  ServerLimits limits_;
  RequestCallback on_request_;
  Acceptor acceptor_;
  std::unordered_set<Connection*> connections_;
  std::unique_ptr<char[]> read_buffer_;
  HttpDateCache dates_;
  bool draining_ = false;
  bool orphaned_ = false;
  std::function<void()> finished_;
  std::function<void(std::string_view)> refusal_log_;
};

} // namespace ofwatchdog::http
