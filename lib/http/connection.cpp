// Connection: the socket, its timers and its teardown. The request flow is in
// connection_requests.cpp, the file and spliced bodies in connection_transfers.cpp.

#include "http/connection.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "http/connection_host.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::http {

using Deadline = ConnectionDeadlines::Kind;

namespace {
template <typename Handle> Connection* owner(Handle* handle) {
  return static_cast<Connection*>(handle->data);
}

std::string format_peer(const struct sockaddr_storage& address) {
  char ip[64] = {0};
  if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(&address);
    int port = ntohs(in6->sin6_port);
    // IPv4 clients of a dual-stack socket show up as ::ffff:a.b.c.d; report the IPv4 form.
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      struct sockaddr_in in4 {};
      in4.sin_family = AF_INET;
      std::memcpy(&in4.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
      uv_ip4_name(&in4, ip, sizeof(ip));
      return fmt::format("{}:{}", ip, port);
    }
    uv_ip6_name(in6, ip, sizeof(ip));
    return fmt::format("[{}]:{}", ip, port);
  }
  const auto* in4 = reinterpret_cast<const struct sockaddr_in*>(&address);
  uv_ip4_name(in4, ip, sizeof(ip));
  return fmt::format("{}:{}", ip, ntohs(in4->sin_port));
}
} // namespace

Connection::Connection(ConnectionHost& server)
    : server_(server), parser_(server.limits().max_header_bytes),
      out_(
          reinterpret_cast<uv_stream_t*>(&tcp_), [this](int status) { handle_written(status); },
          [this] { request_flush(); }),
      deadlines_(server.loop()) {
  parser_.set_body_sink([this](std::string_view data) { on_body_bytes(data); });
}

uv_loop_t* Connection::loop() const {
  return server_.loop();
}

std::string_view Connection::date() const {
  return server_.date();
}

void Connection::accept(int fd) {
  uv_tcp_init(server_.loop(), &tcp_);
  uv_timer_init(server_.loop(), &timer_);
  uv_idle_init(server_.loop(), &idle_);
  uv_prepare_init(server_.loop(), &flush_);
  tcp_.data = this;
  timer_.data = this;
  idle_.data = this;
  flush_.data = this;
  open_handles_ = 4;
  if (uv_tcp_open(&tcp_, fd) != 0) {
    // The handle did not take the socket: it is still ours to close.
    ::close(fd);
    close_now();
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  struct sockaddr_storage peer {};
  int len = sizeof(peer);
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<struct sockaddr*>(&peer), &len) == 0) {
    remote_ = format_peer(peer);
  }
  // The read deadline of the first request runs from the accept, as in Go.
  deadlines_.start(Deadline::read, server_.limits().read_timeout.count());
  if (!deadlines_.is_set(Deadline::read)) {
    deadlines_.start(Deadline::idle, server_.limits().idle_timeout.count());
  }
  if (server_.draining()) {
    close_now();
    return;
  }
  update_reading();
  update_timer();
}

// --- reading ----------------------------------------------------------------------------------

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  *buf = owner(handle)->server_.read_buffer();
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Connection* self = owner(stream);
  if (nread > 0) {
    self->handle_data(buf->base, static_cast<std::size_t>(nread));
  } else if (nread == UV_EOF) {
    self->handle_eof();
  } else if (nread < 0) {
    self->cancel_exchange(CancelReason::client_closed);
    self->close_now();
  }
}

void Connection::handle_data(const char* data, std::size_t len) {
  if (life_ != Life::serving) {
    return; // the last response is out; input is only read so the close stays clean
  }
  if (phase_ == Phase::waiting) {
    move_to(Phase::head);
    deadlines_.clear(Deadline::idle);
    if (!first_request_) {
      deadlines_.start(Deadline::read, server_.limits().read_timeout.count());
    }
  }
  in_.append(data, len);
  pump();
}

void Connection::handle_eof() {
  move_to(Input::ended);
  if (life_ == Life::lingering) {
    close_now();
    return;
  }
  // Like Go, a peer that closes its side while a request is being served is taken as gone: the
  // exchange is cancelled (so a mode can stop the function) rather than answered into the void.
  if (exchange_ && !exchange_->done() && exchange_->tunnel()) {
    // A half-close ends the client's side of a tunnel: what is buffered is delivered, then
    // on_body_end, and the other direction stays open until the exchange ends. A body-less
    // request is moved into the tunnel phase first if the loop has not done it yet.
    pump();
    if (life_ == Life::closing || phase_ == Phase::tunnel || phase_ == Phase::complete) {
      return;
    }
  }
  if (exchange_ && !exchange_->done()) {
    cancel_exchange(CancelReason::client_closed);
    close_now();
    return;
  }
  if (phase_ == Phase::waiting || phase_ == Phase::head) {
    close_now();
    return;
  }
  // The response is complete but may still be in the queue: send it, then close.
  close_after_response_ = true;
  move_to(Phase::complete);
  pump();
}

// The one place the input state changes; the socket's reading follows it.
void Connection::move_to(Input next) {
  bool legal = false;
  switch (input_) {
  case Input::paused:
  case Input::reading:
    legal = next != Input::end_delivered;
    break;
  case Input::taken:
    legal = next == Input::paused;
    break;
  case Input::ended:
    legal = next == Input::end_delivered;
    break;
  case Input::end_delivered:
    break;
  }
  OFW_INVARIANT(legal, "an illegal move of a connection's input state");
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (next == Input::reading) {
    if (uv_read_start(stream, &Connection::on_alloc, &Connection::on_read) != 0) {
      return; // stays paused
    }
  } else if (input_ == Input::reading && next != Input::ended) {
    // (At the end of the input libuv has stopped reading already.)
    uv_read_stop(stream);
  }
  input_ = next;
}

void Connection::update_reading() {
  if (life_ == Life::closing || (input_ != Input::reading && input_ != Input::paused)) {
    return;
  }
  bool want = life_ == Life::lingering || in_.size() < kReadAhead;
  if (want != (input_ == Input::reading)) {
    move_to(want ? Input::reading : Input::paused);
  }
}

// --- writing ----------------------------------------------------------------------------------

void Connection::handle_written(int status) {
  if (life_ == Life::closing) {
    return;
  }
  if (status < 0) {
    // Handled on the next turn: this may run inside a handler's send_body.
    write_failed_ = true;
    schedule();
    return;
  }
  if (exchange_ && out_.queued() < ServerExchangeImpl::kLowWater) {
    auto exchange = exchange_;
    exchange->deliver_writable();
  }
  pump();
}

void Connection::file_sender_closed() {
  if (--open_handles_ == 0) {
    server_.connection_closed(this);
  }
}

// --- timers and deferred work -------------------------------------------------------------

void Connection::request_flush() {
  if (life_ != Life::closing) {
    // Prepare handles run just before the loop waits for events, after every callback of this
    // turn, so whatever the exchange queues during the turn leaves in one write.
    uv_prepare_start(&flush_, &Connection::on_flush);
  }
}

void Connection::on_flush(uv_prepare_t* prepare) {
  uv_prepare_stop(prepare);
  Connection* self = owner(prepare);
  self->out_.flush();
  // A flush asked for while this one ran (the socket took everything, and the writable
  // callback that followed queued more) is due at the next prepare phase, which comes only
  // after the loop has polled; with no write in flight nothing would end that poll, and the
  // response would stall until some timer fired. An idle handle keeps the poll from sleeping.
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(prepare)))
    self->schedule();
}

void Connection::schedule() {
  if (life_ != Life::closing) {
    uv_idle_start(&idle_, &Connection::on_idle);
  }
}

void Connection::on_idle(uv_idle_t* idle) {
  uv_idle_stop(idle);
  Connection* self = owner(idle);
  if (self->write_failed_) {
    self->cancel_exchange(CancelReason::client_closed);
    self->close_now();
    return;
  }
  self->pump();
}

void Connection::update_timer() {
  if (life_ == Life::closing) {
    return;
  }
  if (std::optional<std::uint64_t> delay = deadlines_.arm_timer()) {
    uv_timer_start(&timer_, &Connection::on_timer, *delay, 0);
  }
}

void Connection::on_timer(uv_timer_t* timer) {
  Connection* self = owner(timer);
  self->deadlines_.timer_fired();
  self->handle_timer();
}

void Connection::handle_timer() {
  std::optional<Deadline> passed = deadlines_.passed();
  if (!passed) {
    update_timer();
    return;
  }
  switch (*passed) {
  case Deadline::linger:
  case Deadline::idle:
    break;
  case Deadline::write:
    cancel_exchange(CancelReason::write_timeout);
    break;
  case Deadline::read:
    // An incomplete head is dropped without an answer; an incomplete body cancels its
    // exchange (the handler learns it through on_cancel(read_timeout)).
    cancel_exchange(CancelReason::read_timeout);
    break;
  }
  close_now();
}

// --- closing ----------------------------------------------------------------------------------

void Connection::drain() {
  draining_ = true;
  if (!exchange_ && (phase_ == Phase::waiting) && out_.idle()) {
    close_now();
    return;
  }
  schedule();
}

void Connection::shut_down() {
  cancel_exchange(CancelReason::shutdown);
  close_now();
}

void Connection::begin_tunnel() {
  // The mode decides how long a tunnel lives; the server's deadlines are for HTTP messages.
  deadlines_.clear_http();
  close_after_response_ = true;
  if (phase_ == Phase::complete) {
    move_to(Phase::tunnel);
  }
  // Otherwise the request message has not ended yet; on_message_end switches.
  schedule();
}

void Connection::cancel_exchange(CancelReason reason) {
  if (!exchange_) {
    return;
  }
  auto exchange = std::move(exchange_);
  exchange_.reset();
  cancel_file();
  exchange->detach();
  exchange->cancel(reason);
}

void Connection::begin_graceful_close() {
  if (life_ != Life::serving) {
    return;
  }
  life_ = Life::lingering;
  deadlines_.clear_http();
  deadlines_.start_ms(Deadline::linger, kLingerMs);
  in_.clear();
  shutdown_req_.data = this;
  if (peer_eof() || uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_),
                                &Connection::on_shutdown) != 0) {
    close_now();
    return;
  }
  update_reading();
  update_timer();
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  if (status < 0 && status != UV_ECANCELED) {
    owner(req)->close_now();
  }
}

void Connection::close_now() {
  if (life_ == Life::closing) {
    return;
  }
  cancel_exchange(CancelReason::client_closed);
  life_ = Life::closing;
  out_.discard_pending();
  if (open_handles_ == 0) {
    // accept() never initialised the handles.
    server_.connection_closed(this);
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Connection::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &Connection::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), &Connection::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_), &Connection::on_handle_closed);
  if (files_) {
    // Its duplicate of the socket keeps the connection open until the last sendfile call in
    // flight has returned; only then is it closed and the connection freed.
    ++open_handles_;
    files_->close([this] { file_sender_closed(); });
  }
}

void Connection::on_handle_closed(uv_handle_t* handle) {
  Connection* self = owner(handle);
  if (--self->open_handles_ == 0) {
    self->server_.connection_closed(self);
  }
}

} // namespace ofwatchdog::http
