#include "http/listener.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "http/connection.hpp"

namespace ofwatchdog::http {

namespace {
void close_and_delete(uv_tcp_t* tcp) {
  uv_close(reinterpret_cast<uv_handle_t*>(tcp),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}
} // namespace

ServerImpl::ServerImpl(uv_loop_t* loop, ServerLimits limits, RequestCallback on_request)
    : loop_(loop), limits_(limits), on_request_(std::move(on_request)),
      read_buffer_(new char[kReadBufferSize]) {}

int ServerImpl::bind_and_listen(const struct sockaddr* address) {
  auto* tcp = new uv_tcp_t;
  int rc = uv_tcp_init(loop_, tcp);
  if (rc != 0) {
    delete tcp;
    return rc;
  }
  tcp->data = this;
  rc = uv_tcp_bind(tcp, address, 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp), kBacklog, &ServerImpl::on_connection);
  }
  uv_os_fd_t fd = -1;
  if (rc == 0) {
    rc = uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd);
  }
  if (rc == 0) {
    listen_fd_copy_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    rc = listen_fd_copy_ < 0 ? -errno : 0;
  }
  if (rc != 0) {
    close_and_delete(tcp);
    return rc;
  }
  listener_ = tcp;
  return 0;
}

int ServerImpl::listen(int port) {
  if (listener_ != nullptr) {
    return UV_EALREADY;
  }
  // `::` without IPV6_V6ONLY accepts IPv4 clients too (as mapped addresses); hosts without
  // IPv6 get the IPv4 wildcard instead.
  struct sockaddr_in6 any6 {};
  uv_ip6_addr("::", port, &any6);
  int rc = bind_and_listen(reinterpret_cast<const struct sockaddr*>(&any6));
  if (rc == UV_EAFNOSUPPORT || rc == UV_EADDRNOTAVAIL || rc == UV_EPROTONOSUPPORT ||
      rc == UV_EINVAL) {
    struct sockaddr_in any4 {};
    uv_ip4_addr("0.0.0.0", port, &any4);
    rc = bind_and_listen(reinterpret_cast<const struct sockaddr*>(&any4));
  }
  return rc;
}

int ServerImpl::port() const {
  if (listen_fd_copy_ < 0) {
    return 0;
  }
  // The copy, not the handle: the handle is gone while accepting is paused.
  struct sockaddr_storage address {};
  socklen_t len = sizeof(address);
  if (::getsockname(listen_fd_copy_, reinterpret_cast<struct sockaddr*>(&address), &len) != 0) {
    return 0;
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<struct sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<struct sockaddr_in*>(&address)->sin_port);
}

void ServerImpl::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<ServerImpl*>(listener->data);
  if (status == UV_EMFILE || status == UV_ENFILE || status == UV_ENOBUFS ||
      status == UV_ENOMEM) {
    // libuv sheds clients itself on EMFILE while it holds a spare descriptor; it reports the
    // error only when that failed, and then calls accept again at once, for as long as the
    // error lasts. The clients stay in the backlog until accepting resumes.
    self->pause_accepting();
    return;
  }
  if (status < 0) {
    return; // a network error of one pending client (ECONNABORTED and the like): go on
  }
  self->accept_retry_ms_ = 0;
  auto* connection = new Connection(*self);
  self->connections_.insert(connection);
  connection->accept(listener);
}

void ServerImpl::pause_accepting() {
  if (listener_ == nullptr || draining_) {
    return;
  }
  // uv_close takes the descriptor out of libuv's loop and closes it at once, which ends the
  // accept loop libuv is in; the socket lives on in listen_fd_copy_.
  uv_tcp_t* tcp = listener_;
  listener_ = nullptr;
  close_and_delete(tcp);
  if (accept_retry_ == nullptr) {
    accept_retry_ = new uv_timer_t;
    uv_timer_init(loop_, accept_retry_);
    accept_retry_->data = this;
  }
  schedule_accept_retry();
}

void ServerImpl::schedule_accept_retry() {
  // As Go's http.Server: 5 ms, doubled at each failure up to 1 s.
  accept_retry_ms_ = accept_retry_ms_ == 0 ? kFirstAcceptRetryMs
                                           : std::min(accept_retry_ms_ * 2, kLastAcceptRetryMs);
  uv_timer_start(accept_retry_, &ServerImpl::on_accept_retry, accept_retry_ms_, 0);
}

void ServerImpl::on_accept_retry(uv_timer_t* timer) {
  static_cast<ServerImpl*>(timer->data)->resume_accepting();
}

void ServerImpl::resume_accepting() {
  if (listener_ != nullptr || draining_) {
    return;
  }
  int fd = ::fcntl(listen_fd_copy_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    schedule_accept_retry(); // still out of descriptors
    return;
  }
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_, tcp);
  tcp->data = this;
  int rc = uv_tcp_open(tcp, fd);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp), kBacklog, &ServerImpl::on_connection);
  }
  if (rc != 0) {
    uv_os_fd_t owned = -1;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &owned) != 0) {
      ::close(fd); // uv_tcp_open failed, so the handle does not own it
    }
    close_and_delete(tcp);
    schedule_accept_retry();
    return;
  }
  // The pending clients are accepted on the next turn of the loop; a new failure pauses again
  // with a longer wait.
  listener_ = tcp;
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
  check_finished();
}

void ServerImpl::close_listener() {
  if (accept_retry_ != nullptr && !uv_is_closing(reinterpret_cast<uv_handle_t*>(accept_retry_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(accept_retry_), &ServerImpl::on_retry_timer_closed);
  }
  if (listen_fd_copy_ >= 0) {
    ::close(listen_fd_copy_);
    listen_fd_copy_ = -1;
  }
  if (listener_ == nullptr || uv_is_closing(reinterpret_cast<uv_handle_t*>(listener_))) {
    return;
  }
  uv_tcp_t* tcp = listener_;
  tcp->data = this;
  uv_close(reinterpret_cast<uv_handle_t*>(tcp), &ServerImpl::on_listener_closed);
}

void ServerImpl::on_listener_closed(uv_handle_t* handle) {
  auto* self = static_cast<ServerImpl*>(handle->data);
  delete reinterpret_cast<uv_tcp_t*>(handle);
  self->listener_ = nullptr;
  self->check_finished();
}

void ServerImpl::on_retry_timer_closed(uv_handle_t* handle) {
  auto* self = static_cast<ServerImpl*>(handle->data);
  delete reinterpret_cast<uv_timer_t*>(handle);
  self->accept_retry_ = nullptr;
  self->check_finished();
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
  bool had_listener = listener_ != nullptr || accept_retry_ != nullptr;
  close_listener();
  // Ending a connection may close it at once; iterate over a copy.
  std::vector<Connection*> snapshot(connections_.begin(), connections_.end());
  for (Connection* connection : snapshot) {
    (connection->*end_connection)();
  }
  if (!had_listener && connections_.empty()) {
    check_finished();
  }
}

// --- Server ---------------------------------------------------------------------------------

Server::Server(uv_loop_s* loop, ServerLimits limits, RequestCallback on_request)
    : impl_(std::make_unique<ServerImpl>(loop, limits, std::move(on_request))) {}

Server::~Server() {
  if (impl_ && impl_->busy()) {
    // Handles are still open: close them and let the implementation free itself once libuv has
    // run their close callbacks (the loop must run for that).
    impl_->close(nullptr);
    impl_->orphan();
    impl_.release();
  }
}

int Server::listen(int port) { return impl_->listen(port); }
int Server::port() const { return impl_->port(); }
void Server::drain(std::function<void()> done) { impl_->drain(std::move(done)); }
void Server::close(std::function<void()> done) { impl_->close(std::move(done)); }
std::size_t Server::connection_count() const { return impl_->connection_count(); }

void Server::set_refusal_log(std::function<void(std::string_view)> log) {
  impl_->set_refusal_log(std::move(log));
}

void ServerImpl::log_refusal(std::string_view remote, std::string_view status,
                             std::string_view reason) {
  if (refusal_log_) {
    refusal_log_(fmt::format("Refused a request from {}: {} ({})", remote, status, reason));
  }
}

} // namespace ofwatchdog::http
