#pragma once
// The server behind Server (server.hpp): the listening socket, the set of live connections, the
// read buffer and the Date cache. Its connections see it only as a ConnectionHost.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>

#include <uv.h>

#include "http/acceptor.hpp"
#include "http/connection_host.hpp"
#include "http/http_date.hpp"
#include "http/server.hpp"

namespace ofwatchdog::http {

class Connection;

class ServerImpl final : public ConnectionHost {
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

  void set_refusal_log(std::function<void(std::string_view)> log) { refusal_log_ = std::move(log); }

  // ConnectionHost
  uv_loop_t* loop() const override { return loop_; }
  const ServerLimits& limits() const override { return limits_; }
  std::string_view date() override { return dates_.now(); }
  bool draining() const override { return draining_; }
  uv_buf_t read_buffer() override { return uv_buf_init(read_buffer_.get(), kReadBufferSize); }
  void dispatch(std::shared_ptr<ServerExchange> exchange) override;
  void connection_closed(Connection* connection) override;
  void log_refusal(std::string_view remote, std::string_view status,
                   std::string_view reason) override;

  // One buffer for every connection's reads (each read is copied out before the next). A
  // request of a head and a 64 KiB body fits one read, so a proxied POST of that size costs one
  // read from the client and one write to the upstream instead of two of each.
  static constexpr unsigned kReadBufferSize = 128 * 1024;

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
