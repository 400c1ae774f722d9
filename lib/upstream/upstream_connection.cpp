// One upstream connection; see upstream_connection.hpp.
#include "upstream/upstream_connection.hpp"

#include <cctype>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "upstream/upstream_error.hpp"
#include "util/stream_write.hpp"

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
    self->lookup_pending_ = true;
  } else {
    self->defer_connect_failure(lookup_error_text(self->host_, err));
  }
  return self;
}

void UpstreamConnection::on_resolved(int status, addrinfo* result) {
  --pending_;
  lookup_pending_ = false;
  if (closing_) {
    uv_freeaddrinfo(result);
    maybe_free();
    return;
  }
  if (status < 0 || result == nullptr) {
    uv_freeaddrinfo(result);
    state_ = State::done;
    if (listener_ != nullptr)
      listener_->on_connected(lookup_error_text(host_, status < 0 ? status : UV_EAI_NONAME));
    return;
  }
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
  state_ = State::done;
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
  if (closing_) {
    maybe_free();
    return;
  }
  if (status < 0) {
    state_ = State::done;
    if (listener_ != nullptr)
      listener_->on_connected(dial_error_text(host_port_, status));
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  uv_tcp_keepalive(&tcp_, 1, kKeepAliveSeconds);
  state_ = State::idle;
  if (listener_ != nullptr)
    listener_->on_connected(std::string());
}

void UpstreamConnection::begin(Listener* listener, std::string_view method, std::string head) {
  listener_ = listener;
  state_ = State::busy;
  ++requests_;
  reusable_ = false;
  request_complete_ = true;
  paused_ = false;
  parser_.begin(method);
  write(std::move(head));
  update_reading();
}

void UpstreamConnection::write(std::initializer_list<std::string_view> pieces) {
  if (closing_ || write_failed_)
    return;
  std::size_t total = 0;
  for (std::string_view piece : pieces)
    total += piece.size();
  if (total == 0)
    return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  std::size_t taken = 0;
  if (queued_bytes_ == 0) {
    // Nothing of ours is queued, so the socket can be written at once, straight from the
    // caller's buffers. A request head, or a body read, usually fits whole; then nothing is
    // copied and no write request is made, which also spares libuv's write-completion pass and
    // the epoll_ctl it does after every uv_write.
    uv_buf_t bufs[4];
    unsigned count = 0;
    for (std::string_view piece : pieces) {
      if (!piece.empty() && count < 4)
        bufs[count++] = uv_buf_init(const_cast<char*>(piece.data()), static_cast<unsigned>(piece.size()));
    }
    int written = pieces.size() <= 4 ? util::write_now(stream, bufs, count) : UV_EAGAIN;
    if (written == static_cast<int>(total))
      return;
    if (written > 0) {
      taken = static_cast<std::size_t>(written);
    } else if (written != UV_EAGAIN) {
      // Reported by the read side, as for a failed uv_write below.
      write_failed_ = true;
      return;
    }
  }
  std::string data;
  data.reserve(total - taken);
  for (std::string_view piece : pieces) {
    std::size_t skip = taken < piece.size() ? taken : piece.size();
    taken -= skip;
    data.append(piece.substr(skip));
  }
  auto* request = new WriteRequest;
  request->data = std::move(data);
  request->self = this;
  request->req.data = request;
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  int err = uv_write(&request->req, stream, &buf, 1,
                     [](uv_write_t* req, int status) {
                       auto* request = static_cast<WriteRequest*>(req->data);
                       UpstreamConnection* self = request->self;
                       std::size_t size = request->data.size();
                       delete request;
                       self->queued_bytes_ -= size;
                       --self->pending_;
                       if (self->closing_) {
                         self->maybe_free();
                         return;
                       }
                       // A failed write is not reported here: the read side sees the reset or
                       // the EOF and reports it with what it knows about the response.
                       if (status < 0)
                         self->write_failed_ = true;
                       if (self->above_high_water_ && self->queued_bytes_ <= kWriteLowWater) {
                         self->above_high_water_ = false;
                         if (self->listener_ != nullptr)
                           self->listener_->on_write_drained();
                       }
                     });
  if (err != 0) {
    delete request;
    write_failed_ = true;
    return;
  }
  ++pending_;
  queued_bytes_ += buf.len;
  if (queued_bytes_ > kWriteHighWater)
    above_high_water_ = true;
}

void UpstreamConnection::shutdown_write() {
  if (closing_ || shutdown_sent_)
    return;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_),
                  [](uv_shutdown_t* req, int) {
                    UpstreamConnection* self = owner(req);
                    --self->pending_;
                    self->maybe_free();
                  }) == 0) {
    shutdown_sent_ = true;
    ++pending_;
  }
}

void UpstreamConnection::pause_reading() {
  paused_ = true;
  update_reading();
}

void UpstreamConnection::resume_reading() {
  paused_ = false;
  update_reading();
}

void UpstreamConnection::update_reading() {
  if (closing_)
    return;
  // A connected socket is read all the time, between responses too, except while the client
  // side asked for backpressure. Stopping and restarting the read costs libuv two epoll_ctl
  // calls each time (it forgets the registration on stop), which showed up as the largest
  // syscall count per proxied request. Bytes or an EOF arriving between responses are handled
  // by state: an idle connection is lost, a finished one ignores them until it is idle or
  // closed.
  bool want = state_ != State::connecting &&
              !((state_ == State::busy || state_ == State::tunnel) && paused_);
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (want && !reading_) {
    reading_ = uv_read_start(stream, &UpstreamConnection::alloc_cb,
                             [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
                               owner(s)->on_read(nread, buf);
                             }) == 0;
  } else if (!want && reading_) {
    uv_read_stop(stream);
    reading_ = false;
  }
}

void UpstreamConnection::alloc_cb(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  // One buffer for every connection of the thread's loop: a read is handed on (and copied where
  // it must wait) before its callback returns, and the loop runs one read callback at a time.
  // Shared, it stays in the cache, and a pooled connection costs no buffer of its own.
  static thread_local std::unique_ptr<char[]> buffer(new char[kReadBufferSize]);
  *buf = uv_buf_init(buffer.get(), kReadBufferSize);
}

void UpstreamConnection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (closing_ || nread == 0)
    return;
  if (nread == UV_EOF) {
    on_eof();
  } else if (nread < 0) {
    if (state_ == State::idle)
      lose_idle();
    else
      fail(io_error_text("read", static_cast<int>(nread)));
  } else {
    on_data(buf->base, static_cast<std::size_t>(nread));
  }
}

void UpstreamConnection::on_data(const char* data, std::size_t len) {
  switch (state_) {
  case State::idle:
    // Nothing may arrive on an idle connection: an upstream that talks out of turn (or a
    // late part of an earlier response) makes it unusable.
    lose_idle();
    return;
  case State::tunnel:
    if (listener_ != nullptr)
      listener_->on_response_body(std::string_view(data, len));
    return;
  case State::busy:
    break;
  default:
    return;
  }
  ResponseParser::Result result = parser_.feed(data, len);
  if (closing_)
    return;
  switch (result.status) {
  case ResponseParser::Status::need_more:
    return;
  case ResponseParser::Status::error:
    fail(parser_.error_text());
    return;
  case ResponseParser::Status::complete:
    break;
  }
  std::string_view rest(data + result.consumed, len - result.consumed);
  if (state_ == State::tunnel) {
    if (!rest.empty() && listener_ != nullptr)
      listener_->on_response_body(rest);
    return;
  }
  state_ = State::done;
  reusable_ = parser_.keep_alive() && rest.empty() && request_complete_ && !write_failed_;
  update_reading();
  Listener* listener = listener_;
  listener_ = nullptr;
  if (listener != nullptr)
    listener->on_response_end();
}

void UpstreamConnection::on_eof() {
  if (state_ == State::idle) {
    lose_idle();
    return;
  }
  if (state_ == State::tunnel) {
    state_ = State::done;
    update_reading();
    Listener* listener = listener_;
    listener_ = nullptr;
    if (listener != nullptr)
      listener->on_response_end();
    return;
  }
  if (state_ != State::busy)
    return;
  if (parser_.finish()) {
    // A body delimited by the close: complete, and the connection is spent.
    state_ = State::done;
    reusable_ = false;
    update_reading();
    Listener* listener = listener_;
    listener_ = nullptr;
    if (listener != nullptr)
      listener->on_response_end();
    return;
  }
  fail(parser_.head_delivered() ? "unexpected EOF" : std::string(kEofText));
}

void UpstreamConnection::fail(const std::string& cause) {
  state_ = State::done;
  reusable_ = false;
  update_reading();
  Listener* listener = listener_;
  listener_ = nullptr;
  if (listener != nullptr)
    listener->on_failure(cause);
}

void UpstreamConnection::on_response_head(UpstreamResponse& response) {
  if (response.switching_protocols)
    state_ = State::tunnel;
  if (listener_ != nullptr)
    listener_->on_response_head(response);
}

void UpstreamConnection::on_continue() {
  if (listener_ != nullptr)
    listener_->on_continue();
}

void UpstreamConnection::on_response_body(std::string_view data) {
  if (listener_ != nullptr)
    listener_->on_response_body(data);
}

void UpstreamConnection::watch_idle(std::uint64_t idle_ms, std::function<void()> on_lost) {
  state_ = State::idle;
  listener_ = nullptr;
  paused_ = false;
  on_idle_lost_ = std::move(on_lost);
  idle_deadline_ = uv_now(loop_) + idle_ms;
  // A connection goes back to the pool after every request. A timer already armed for an
  // earlier moment is left alone (it re-arms itself for the real deadline when it fires), so a
  // busy connection does not move the timer twice per request.
  if (timer_deadline_ == 0 || timer_deadline_ > idle_deadline_)
    arm_idle_timer();
  update_reading();
}

void UpstreamConnection::arm_idle_timer() {
  timer_deadline_ = idle_deadline_;
  std::uint64_t now = uv_now(loop_);
  uv_timer_start(
      &timer_,
      [](uv_timer_t* timer) {
        UpstreamConnection* self = owner(timer);
        self->timer_deadline_ = 0;
        if (self->idle_deadline_ == 0)
          return;
        if (uv_now(self->loop_) >= self->idle_deadline_)
          self->lose_idle();
        else
          self->arm_idle_timer();
      },
      idle_deadline_ > now ? idle_deadline_ - now : 0, 0);
}

void UpstreamConnection::stop_idle_watch() {
  on_idle_lost_ = nullptr;
  idle_deadline_ = 0;
  update_reading();
}

void UpstreamConnection::lose_idle() {
  std::function<void()> on_lost = std::move(on_idle_lost_);
  on_idle_lost_ = nullptr;
  idle_deadline_ = 0;
  timer_deadline_ = 0;
  uv_timer_stop(&timer_);
  state_ = State::done;
  update_reading();
  if (on_lost)
    on_lost();
  else
    close();
}

void UpstreamConnection::close() {
  if (closing_)
    return;
  closing_ = true;
  listener_ = nullptr;
  on_idle_lost_ = nullptr;
  if (lookup_pending_)
    uv_cancel(reinterpret_cast<uv_req_t*>(&lookup_req_));
  auto on_closed = [](uv_handle_t* handle) {
    UpstreamConnection* self = owner(handle);
    --self->pending_;
    self->maybe_free();
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
}

void UpstreamConnection::maybe_free() {
  if (closing_ && pending_ == 0)
    delete this;
}

} // namespace ofwatchdog::upstream
