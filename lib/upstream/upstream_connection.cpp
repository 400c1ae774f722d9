// One upstream connection; see upstream_connection.hpp. Connecting is in upstream_connect.cpp.
#include "upstream/upstream_connection.hpp"

#include <cstring>
#include <memory>
#include <span>

#include "upstream/upstream_error.hpp"
#include "util/invariant.hpp"
#include "util/stream_write.hpp"

namespace ofwatchdog::upstream {

namespace {
template <typename T> UpstreamConnection* owner(T* handle_or_req) {
  return static_cast<UpstreamConnection*>(handle_or_req->data);
}
} // namespace

void UpstreamConnection::begin(Listener* listener, std::string_view method, std::string head,
                               HeadTiming timing) {
  listener_ = listener;
  move_to(State::busy);
  ++requests_;
  reusable_ = false;
  request_complete_ = true;
  paused_ = false;
  parser_.begin(method);
  held_head_.clear(); // a request that never sent its head left no reusable connection anyway
  if (timing == HeadTiming::with_first_body)
    held_head_ = std::move(head);
  else
    write(head);
  update_reading();
}

void UpstreamConnection::set_request_complete(bool complete) {
  request_complete_ = complete;
  if (complete && !held_head_.empty())
    write_pieces(nullptr, 0);
}

void UpstreamConnection::write(std::initializer_list<std::string_view> pieces) {
  write_pieces(pieces.begin(), pieces.size());
}

void UpstreamConnection::write_pieces(const std::string_view* given, std::size_t count) {
  if (state_ == State::closing || write_failed_)
    return;
  // The held head goes first, in the same write as the pieces.
  constexpr std::size_t kMaxPieces = 4;
  OFW_INVARIANT(count < kMaxPieces, "an upstream write of at most three pieces");
  std::string head = std::move(held_head_);
  held_head_.clear();
  std::string_view all[kMaxPieces];
  std::size_t n = 0;
  if (!head.empty())
    all[n++] = head;
  for (std::size_t i = 0; i < count; ++i)
    all[n++] = given[i];
  std::span<const std::string_view> pieces(all, n);
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
    uv_buf_t bufs[kMaxPieces];
    unsigned used = 0;
    for (std::string_view piece : pieces) {
      if (!piece.empty())
        bufs[used++] =
            uv_buf_init(const_cast<char*>(piece.data()), static_cast<unsigned>(piece.size()));
    }
    int written = util::write_now(stream, bufs, used);
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
  int err = uv_write(&request->req, stream, &buf, 1, [](uv_write_t* req, int status) {
    auto* request = static_cast<WriteRequest*>(req->data);
    UpstreamConnection* self = request->self;
    std::size_t size = request->data.size();
    delete request;
    self->queued_bytes_ -= size;
    --self->pending_;
    if (self->state_ == State::closing) {
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
  if (state_ == State::closing || shutdown_sent_)
    return;
  if (!held_head_.empty())
    write_pieces(nullptr, 0);
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
  if (state_ == State::closing)
    return;
  // A connected socket is read all the time, between responses too, except while the client
  // side asked for backpressure. Stopping and restarting the read costs libuv two epoll_ctl
  // calls each time (it forgets the registration on stop), which showed up as the largest
  // syscall count per proxied request. Bytes or an EOF arriving between responses are handled
  // by state: an idle connection is lost, a finished one ignores them until it is idle or
  // closed.
  bool want = state_ != State::resolving && state_ != State::connecting &&
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
  if (state_ == State::closing || nread == 0)
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
  if (state_ == State::closing)
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
  move_to(State::done);
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
    move_to(State::done);
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
    move_to(State::done);
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
  move_to(State::done);
  reusable_ = false;
  update_reading();
  Listener* listener = listener_;
  listener_ = nullptr;
  if (listener != nullptr)
    listener->on_failure(cause);
}

void UpstreamConnection::on_response_head(UpstreamResponse& response) {
  // (A listener may have closed the connection from on_continue, before this final head.)
  if (response.switching_protocols && state_ == State::busy)
    move_to(State::tunnel);
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
  move_to(State::idle);
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
  move_to(State::done);
  update_reading();
  if (on_lost)
    on_lost();
  else
    close();
}

void UpstreamConnection::close() {
  if (state_ == State::closing)
    return;
  bool lookup_pending = state_ == State::resolving;
  move_to(State::closing);
  listener_ = nullptr;
  on_idle_lost_ = nullptr;
  if (lookup_pending)
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
  if (state_ == State::closing && pending_ == 0)
    delete this;
}

// The one place the state changes.
void UpstreamConnection::move_to(State next) {
  bool legal = false;
  switch (state_) {
  case State::resolving:
    legal = next == State::connecting || next == State::done;
    break;
  case State::connecting:
    legal = next == State::resolving || next == State::idle || next == State::done;
    break;
  case State::idle:
    legal = next == State::idle || next == State::busy || next == State::done;
    break;
  case State::busy:
    legal = next == State::tunnel || next == State::done;
    break;
  case State::tunnel:
    legal = next == State::done;
    break;
  case State::done:
    legal = next == State::done || next == State::idle;
    break;
  case State::closing:
    break;
  }
  OFW_INVARIANT(legal || (next == State::closing && state_ != State::closing),
                "an illegal move of an upstream connection's state");
  state_ = next;
}

} // namespace ofwatchdog::upstream
