// The listening socket and its accept loop; see acceptor.hpp.
#include "http/acceptor.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "util/invariant.hpp"

namespace ofwatchdog::http {

namespace {

// accept() reports some network errors of the pending client it was about to return; the
// next client is unaffected (accept(2), "Error handling").
bool is_error_of_one_client(int error) {
  switch (error) {
  case ECONNABORTED:
  case EINTR:
  case EPROTO:
  case ENETDOWN:
  case ENOPROTOOPT:
  case EHOSTDOWN:
  case ENONET:
  case EHOSTUNREACH:
  case EOPNOTSUPP:
  case ENETUNREACH:
  case EPERM: // a firewall rule refused the connection
    return true;
  default:
    return false;
  }
}

// libuv opens a descriptor of its own with the first stream of a loop: a reserve for its own
// accept, which we do not use. uv_listen used to open it at start-up; with a stream made and
// dropped here it still is, so the watchdog's descriptor count stays flat from the first
// request on, as operators and tests read it.
void open_libuv_reserve(uv_loop_t* loop) {
  auto* stream = new uv_tcp_t;
  uv_tcp_init(loop, stream);
  uv_close(reinterpret_cast<uv_handle_t*>(stream),
           [](uv_handle_t* handle) { delete reinterpret_cast<uv_tcp_t*>(handle); });
}

} // namespace

Acceptor::Acceptor(uv_loop_t* loop, std::size_t spares, AcceptCallback on_accept)
    : loop_(loop), on_accept_(std::move(on_accept)), spares_wanted_(spares) {
  spares_.reserve(spares_wanted_);
}

Acceptor::~Acceptor() {
  // The owner waits for `close` to finish (busy() turns false) before destroying us; a handle
  // still open here would be freed under libuv.
  OFW_INVARIANT(!busy(), "an acceptor destroyed with handles still open");
  release_spares();
  if (fd_ >= 0)
    ::close(fd_);
}

int Acceptor::open_socket(const struct sockaddr* address, socklen_t length) {
  int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  int on = 1;
  int off = 0;
  int rc = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  // `::` without IPV6_V6ONLY accepts IPv4 clients too (as mapped addresses), whatever the
  // system's default.
  if (rc == 0 && address->sa_family == AF_INET6)
    rc = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  if (rc == 0)
    rc = ::bind(fd, address, length);
  if (rc == 0)
    rc = ::listen(fd, kBacklog);
  if (rc != 0) {
    int error = errno;
    ::close(fd);
    return -error;
  }
  fd_ = fd;
  return 0;
}

int Acceptor::listen(int port) {
  if (state_ != State::idle)
    return UV_EALREADY;
  // Hosts without IPv6 get the IPv4 wildcard instead.
  struct sockaddr_in6 any6 {};
  uv_ip6_addr("::", port, &any6);
  int rc = open_socket(reinterpret_cast<const struct sockaddr*>(&any6), sizeof(any6));
  if (rc == UV_EAFNOSUPPORT || rc == UV_EADDRNOTAVAIL || rc == UV_EPROTONOSUPPORT ||
      rc == UV_EINVAL) {
    struct sockaddr_in any4 {};
    uv_ip4_addr("0.0.0.0", port, &any4);
    rc = open_socket(reinterpret_cast<const struct sockaddr*>(&any4), sizeof(any4));
  }
  if (rc != 0)
    return rc;
  rc = uv_poll_init(loop_, &poll_, fd_);
  if (rc != 0) {
    ::close(fd_);
    fd_ = -1;
    return rc;
  }
  uv_timer_init(loop_, &retry_);
  open_libuv_reserve(loop_);
  poll_.data = this;
  retry_.data = this;
  open_handles_ = 2;
  state_ = State::accepting;
  // Without its spares the acceptor still works, only without the margin: start paused, and
  // resume like after any shortage.
  if (!take_spares()) {
    pause();
    return 0;
  }
  start_polling();
  return 0;
}

int Acceptor::port() const {
  if (fd_ < 0)
    return 0;
  struct sockaddr_storage address {};
  socklen_t length = sizeof(address);
  if (::getsockname(fd_, reinterpret_cast<struct sockaddr*>(&address), &length) != 0)
    return 0;
  if (address.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<struct sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<struct sockaddr_in*>(&address)->sin_port);
}

void Acceptor::accept_pending() {
  for (int n = 0; n < kAcceptBatch && state_ == State::accepting; ++n) {
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
      retry_ms_ = 0;
      on_accept_(client);
      continue;
    }
    int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK)
      return;
    if (is_error_of_one_client(error))
      continue;
    // EMFILE, ENFILE, ENOBUFS, ENOMEM: the clients wait in the backlog until there is room.
    // Anything else would fail again at once; waiting keeps it from becoming a busy loop.
    pause();
    return;
  }
}

void Acceptor::pause() {
  if (state_ != State::accepting)
    return;
  state_ = State::paused;
  uv_poll_stop(&poll_);
  release_spares();
  retry_ms_ = retry_ms_ == 0 ? kFirstRetryMs : std::min(retry_ms_ * 2, kLastRetryMs);
  start_retry_timer();
}

void Acceptor::descriptor_freed() {
  if (state_ == State::paused)
    try_resume(false);
}

void Acceptor::try_resume(bool from_timer) {
  if (state_ != State::paused)
    return;
  if (!take_spares()) {
    release_spares();
    if (from_timer) {
      // Still short: wait longer. A freed descriptor may resume earlier.
      retry_ms_ = std::min(retry_ms_ * 2, kLastRetryMs);
      start_retry_timer();
    }
    return;
  }
  uv_timer_stop(&retry_);
  state_ = State::accepting;
  // The pending clients are accepted on the next turn of the loop; a new shortage pauses again
  // with a longer wait (retry_ms_ is kept until a client is accepted).
  start_polling();
}

void Acceptor::start_polling() {
  uv_poll_start(&poll_, UV_READABLE, [](uv_poll_t* handle, int status, int) {
    auto* self = static_cast<Acceptor*>(handle->data);
    if (status < 0)
      self->pause();
    else
      self->accept_pending();
  });
}

void Acceptor::start_retry_timer() {
  uv_timer_start(
      &retry_, [](uv_timer_t* timer) { static_cast<Acceptor*>(timer->data)->try_resume(true); },
      retry_ms_, 0);
}

bool Acceptor::take_spares() {
  while (spares_.size() < spares_wanted_) {
    int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      return false;
    spares_.push_back(fd);
  }
  return true;
}

void Acceptor::release_spares() {
  for (int fd : spares_)
    ::close(fd);
  spares_.clear();
}

void Acceptor::close(std::function<void()> done) {
  if (state_ == State::closed) {
    if (done)
      done();
    return;
  }
  bool had_handles = state_ != State::idle;
  state_ = State::closed;
  release_spares();
  if (!had_handles) {
    if (done)
      done();
    return;
  }
  on_closed_ = std::move(done);
  // uv_close stops the poll (and takes the socket out of epoll) before the socket is closed.
  close_handle(reinterpret_cast<uv_handle_t*>(&poll_));
  close_handle(reinterpret_cast<uv_handle_t*>(&retry_));
  ::close(fd_);
  fd_ = -1;
}

void Acceptor::close_handle(uv_handle_t* handle) {
  uv_close(handle, [](uv_handle_t* closed) {
    auto* self = static_cast<Acceptor*>(closed->data);
    if (--self->open_handles_ > 0)
      return;
    if (self->on_closed_) {
      auto done = std::move(self->on_closed_);
      self->on_closed_ = nullptr;
      done();
    }
  });
}

} // namespace ofwatchdog::http
