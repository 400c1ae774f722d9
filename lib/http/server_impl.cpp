// ServerImpl: accepting connections, and ending them all for a drain or a close.
#include "http/server_impl.hpp"

#include <vector>

#include <fmt/format.h>

#include "http/connection.hpp"

namespace ofwatchdog::http {

ServerImpl::ServerImpl(uv_loop_t* loop, ServerLimits limits, RequestCallback on_request)
    : loop_(loop), limits_(limits), on_request_(std::move(on_request)),
      acceptor_(loop, limits.spare_descriptors, [this](int fd) { on_accepted(fd); }),
      read_buffer_(new char[kReadBufferSize]) {}

int ServerImpl::listen(int port) {
  return acceptor_.listen(port);
}

int ServerImpl::port() const {
  return acceptor_.port();
}

void ServerImpl::on_accepted(int fd) {
  auto* connection = new Connection(*this);
  connections_.insert(connection);
  connection->accept(fd);
}

void ServerImpl::dispatch(std::shared_ptr<ServerExchange> exchange) {
  if (on_request_) {
    on_request_(std::move(exchange));
  } else {
    exchange->finish();
  }
}

void ServerImpl::connection_closed(Connection* connection) {
  connections_.erase(connection);
  delete connection;
  // Its socket is closed: room for a client waiting in the backlog, if accepting had paused.
  acceptor_.descriptor_freed();
  check_finished();
}

void ServerImpl::check_finished() {
  if (busy()) {
    return;
  }
  if (finished_) {
    auto done = std::move(finished_);
    finished_ = nullptr;
    done();
  }
  if (orphaned_) {
    delete this;
  }
}

void ServerImpl::drain(std::function<void()> done) {
  stop(std::move(done), &Connection::drain);
}

void ServerImpl::close(std::function<void()> done) {
  stop(std::move(done), &Connection::shut_down);
}

void ServerImpl::stop(std::function<void()> done, void (Connection::*end_connection)()) {
  draining_ = true;
  finished_ = std::move(done);
  // Accepting stops at once; the acceptor's handles close later. Without handles there is no
  // callback, and the check at the end takes its place (`done` may free this object, so it must
  // not run from inside this function before the connections are handled).
  bool had_handles = acceptor_.busy();
  acceptor_.close(had_handles ? std::function<void()>([this] { check_finished(); }) : nullptr);
  // Ending a connection may close it at once; iterate over a copy.
  std::vector<Connection*> snapshot(connections_.begin(), connections_.end());
  for (Connection* connection : snapshot) {
    (connection->*end_connection)();
  }
  if (!had_handles && connections_.empty()) {
    check_finished();
  }
}

void ServerImpl::log_refusal(std::string_view remote, std::string_view status,
                             std::string_view reason) {
  if (refusal_log_) {
    refusal_log_(fmt::format("Refused a request from {}: {} ({})", remote, status, reason));
  }
}

} // namespace ofwatchdog::http
