// UpstreamConnection: opening the connection, a name looked up on libuv's thread pool first.
#include <cctype>
#include <string>

#include <fmt/format.h>

#include "upstream/upstream_connection.hpp"
#include "upstream/upstream_error.hpp"

namespace ofwatchdog::upstream {

namespace {
// TCP keep-alive probes on otherwise silent connections, as the original's client (10 s).
constexpr unsigned kKeepAliveSeconds = 10;

const std::string kLoopback = "127.0.0.1";

bool is_localhost(const std::string& host) {
  if (host.size() != 9)
    return false;
  for (std::size_t i = 0; i < host.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(host[i])) != "localhost"[i])
      return false;
  return true;
}

template <typename T> UpstreamConnection* owner(T* handle_or_req) {
  return static_cast<UpstreamConnection*>(handle_or_req->data);
}
} // namespace

UpstreamConnection::UpstreamConnection(uv_loop_t* loop)
    : loop_(loop), parser_(*this, kMaxHeadBytes) {}

UpstreamConnection* UpstreamConnection::open(uv_loop_t* loop, const UpstreamUrl& url,
                                             Listener* listener) {
  auto* self = new UpstreamConnection(loop);
  self->listener_ = listener;
  self->host_ = url.host;
  self->host_port_ = url.host.find(':') != std::string::npos
                         ? fmt::format("[{}]:{}", url.host, url.port)
                         : fmt::format("{}:{}", url.host, url.port);
  uv_tcp_init(loop, &self->tcp_);
  self->tcp_.data = self;
  uv_timer_init(loop, &self->timer_);
  self->timer_.data = self;
  self->pending_ = 2;

  sockaddr_storage address{};
  // `localhost` is the loopback whatever the resolver says (RFC 6761), and needs no resolver:
  // a static binary in an image without /etc/hosts still reaches its function.
  const std::string& literal = is_localhost(url.host) ? kLoopback : url.host;
  if (uv_ip4_addr(literal.c_str(), url.port, reinterpret_cast<sockaddr_in*>(&address)) == 0 ||
      uv_ip6_addr(literal.c_str(), url.port, reinterpret_cast<sockaddr_in6*>(&address)) == 0) {
    self->start_connect(reinterpret_cast<const sockaddr*>(&address));
    return self;
  }
  // A name: resolved on libuv's thread pool, never on the loop.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  self->lookup_req_.data = self;
  std::string port = std::to_string(url.port);
  int err = uv_getaddrinfo(
      loop, &self->lookup_req_,
      [](uv_getaddrinfo_t* req, int status, addrinfo* result) {
        owner(req)->on_resolved(status, result);
      },
      url.host.c_str(), port.c_str(), &hints);
  if (err == 0) {
    ++self->pending_;
    self->move_to(State::resolving);
  } else {
    self->defer_connect_failure(lookup_error_text(self->host_, err));
  }
  return self;
}

void UpstreamConnection::on_resolved(int status, addrinfo* result) {
  --pending_;
  if (state_ == State::closing) {
    uv_freeaddrinfo(result);
    maybe_free();
    return;
  }
  if (status < 0 || result == nullptr) {
    uv_freeaddrinfo(result);
    move_to(State::done);
    if (listener_ != nullptr)
      listener_->on_connected(lookup_error_text(host_, status < 0 ? status : UV_EAI_NONAME));
    return;
  }
  move_to(State::connecting);
  start_connect(result->ai_addr);
  uv_freeaddrinfo(result);
}

void UpstreamConnection::start_connect(const sockaddr* address) {
  connect_req_.data = this;
  int err = uv_tcp_connect(&connect_req_, &tcp_, address,
                           [](uv_connect_t* req, int status) { owner(req)->on_connect(status); });
  if (err == 0) {
    ++pending_;
    return;
  }
  defer_connect_failure(dial_error_text(host_port_, err));
}

void UpstreamConnection::defer_connect_failure(std::string cause) {
  // Failures are reported from a callback, never from inside the call that opened the
  // connection; a zero timer stands in for the libuv callback that will not come.
  move_to(State::done);
  deferred_error_ = std::move(cause);
  uv_timer_start(
      &timer_,
      [](uv_timer_t* timer) {
        UpstreamConnection* self = owner(timer);
        if (self->listener_ != nullptr)
          self->listener_->on_connected(self->deferred_error_);
      },
      0, 0);
}

void UpstreamConnection::on_connect(int status) {
  --pending_;
  if (state_ == State::closing) {
    maybe_free();
    return;
  }
  if (status < 0) {
    move_to(State::done);
    if (listener_ != nullptr)
      listener_->on_connected(dial_error_text(host_port_, status));
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  uv_tcp_keepalive(&tcp_, 1, kKeepAliveSeconds);
  move_to(State::idle);
  if (listener_ != nullptr)
    listener_->on_connected(std::string());
}

} // namespace ofwatchdog::upstream
