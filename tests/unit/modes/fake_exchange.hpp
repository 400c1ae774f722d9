#pragma once
// An Exchange without a socket, for testing modes on a real loop: it records the response and
// feeds a request body with backpressure (it stops while paused), and it can play a slow
// client whose `send_body` says "stop" and which calls `on_writable` a moment later. It can also
// play the server's body splice (`splice_body_to`): the rest of the body written into the
// caller's pipe, non-blocking, then `done`.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>

#include <uv.h>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::testing {

class FakeExchange : public Exchange {
public:
  FakeExchange(uv_loop_t* loop, Request request) : loop_(loop), request_(std::move(request)) {
    uv_idle_init(loop_, &handles_->feeder);
    handles_->feeder.data = this;
    uv_timer_init(loop_, &handles_->writable_timer);
    handles_->writable_timer.data = this;
  }
  ~FakeExchange() override {
    stop_splice();
    close();
  }

  // Closes the fake's own handles (the destructor does too). Their memory is freed by the
  // close callbacks, so a fake may be destroyed before the loop has run them.
  void close() {
    if (closed_)
      return;
    closed_ = true;
    handles_->feeder.data = handles_;
    handles_->writable_timer.data = handles_;
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->feeder), &Handles::closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->writable_timer), &Handles::closed);
  }

  // The body the handler receives once it is set, in pieces of at most `piece` bytes.
  void set_body(std::string body, std::size_t piece = 64 * 1024) {
    body_ = std::move(body);
    piece_ = piece;
  }
  // Leaves the body open after the data (a client still sending) until `end_body`.
  void hold_body_open() { hold_open_ = true; }
  void end_body() {
    hold_open_ = false;
    start_feeding();
  }
  // After a protocol switch the client's side goes on as a tunnel: more bytes after the end of
  // the request message, then the end of the client's side (a second `on_body_end`).
  void continue_body(std::string more) {
    body_.append(more);
    body_ended_ = false;
    start_feeding();
  }
  // `send_body` returns false once this many bytes are queued since the last `on_writable`.
  // After `window` bytes every send_body reports a full socket, and on_writable follows
  // `delay_ms` later: the client takes at most one piece per delay.
  void set_slow_client(std::size_t window, std::uint64_t delay_ms = 1) {
    window_ = window;
    writable_delay_ms_ = delay_ms;
  }

  // `splice_body_to` takes the rest of the body (it says no unless this was called).
  void allow_body_splice() { splice_allowed_ = true; }
  // Whether the handler took the body with splice_body_to.
  bool body_spliced() const { return splice_started_; }

  // Plays a client that sent `Expect: 100-continue`: it holds its body back until the handler
  // has called `send_continue` (after `defer_continue`, which then reports a waiting client).
  void wait_for_continue() { waits_for_continue_ = true; }

  void cancel(CancelReason reason) {
    if (done())
      return;
    cancelled = true;
    stop_splice();
    ExchangeHandler* h = handler_;
    handler_ = nullptr;
    if (h != nullptr)
      h->on_cancel(reason);
  }

  const Request& request() const override { return request_; }
  uv_loop_s* loop() const override { return loop_; }

  void set_handler(ExchangeHandler* handler) override {
    handler_ = handler;
    // As the server does: the client is told to go on when a handler starts reading, unless
    // the handler took that on itself.
    if (handler_ != nullptr && !continue_deferred)
      send_continue();
    if (handler_ != nullptr)
      start_feeding();
  }
  bool defer_continue() override {
    continue_deferred = waits_for_continue_ && handler_ == nullptr;
    return continue_deferred;
  }
  void send_continue() override {
    if (!waits_for_continue_ || continues > 0 || head || done())
      return;
    ++continues;
    continue_at_ms = uv_now(loop_);
    start_feeding();
  }
  void pause_body() override {
    paused_ = true;
    ++pauses;
  }
  void resume_body() override {
    paused_ = false;
    start_feeding();
  }

  void send_head(ResponseHead h) override {
    if (done())
      return;
    head = std::move(h);
  }
  bool send_body(std::string_view data) override {
    if (done())
      return true;
    if (!head)
      head = ResponseHead{};
    body.append(data);
    sent_ += data.size();
    if (window_ != 0 && sent_ >= window_) {
      ++stops;
      uv_timer_start(&handles_->writable_timer, &FakeExchange::writable_cb, writable_delay_ms_, 0);
      return false;
    }
    return true;
  }
  void finish() override {
    if (done())
      return;
    if (!head)
      head = ResponseHead{};
    finished = true;
    stop_splice();
  }
  void abort() override {
    if (done())
      return;
    aborted = true;
    stop_splice();
  }
  bool splice_body_to(int pipe_fd, TransferDone done_callback) override {
    if (!splice_allowed_ || handler_ == nullptr || body_ended_ || done() || splice_fd_ >= 0)
      return false;
    splice_fd_ = ::fcntl(pipe_fd, F_DUPFD_CLOEXEC, 0);
    if (splice_fd_ < 0)
      return false;
    splice_done_ = std::move(done_callback);
    splice_started_ = true;
    start_feeding();
    return true;
  }
  bool head_sent() const override { return head.has_value(); }
  int status() const override { return head ? head->status : 0; }
  std::uint64_t body_bytes_sent() const override { return body.size(); }
  bool done() const override { return finished || aborted || cancelled; }

  std::optional<ResponseHead> head;
  std::string body;
  bool finished = false;
  bool aborted = false;
  bool cancelled = false;
  int pauses = 0;
  int stops = 0;
  bool continue_deferred = false; // defer_continue was called and reported a waiting client
  int continues = 0;              // 100 Continue responses sent
  std::uint64_t continue_at_ms = 0;

  const std::string* response_header(std::string_view name) const {
    return head ? find_header(head->headers, name) : nullptr;
  }

private:
  void start_feeding() {
    if (waits_for_continue_ && continues == 0)
      return; // the client holds its body until it is told to go on
    if (handler_ != nullptr && !paused_ && !body_ended_)
      uv_idle_start(&handles_->feeder, &FakeExchange::feed_cb);
  }

  static void feed_cb(uv_idle_t* idle) {
    auto* self = static_cast<FakeExchange*>(idle->data);
    if (self->splice_fd_ >= 0) {
      self->feed_splice();
      return;
    }
    if (self->handler_ == nullptr || self->paused_ || self->body_ended_) {
      uv_idle_stop(idle);
      return;
    }
    if (self->offset_ < self->body_.size()) {
      std::size_t n = std::min(self->piece_, self->body_.size() - self->offset_);
      std::string_view piece(self->body_.data() + self->offset_, n);
      self->offset_ += n;
      self->handler_->on_body(piece);
      return;
    }
    if (self->hold_open_) {
      uv_idle_stop(idle);
      return;
    }
    self->body_ended_ = true;
    uv_idle_stop(idle);
    self->handler_->on_body_end();
  }

  // One write into the spliced pipe per turn (the idle handle polls a full pipe).
  void feed_splice() {
    if (offset_ < body_.size()) {
      std::size_t n = std::min<std::size_t>(1 << 20, body_.size() - offset_);
      ssize_t w = ::write(splice_fd_, body_.data() + offset_, n);
      if (w > 0) {
        offset_ += static_cast<std::size_t>(w);
        spliced_ += static_cast<std::uint64_t>(w);
      } else if (w < 0 && errno != EAGAIN) {
        offset_ = body_.size(); // the reader is gone: as the server, drop the rest
      }
      return;
    }
    if (hold_open_) {
      uv_idle_stop(&handles_->feeder);
      return;
    }
    uv_idle_stop(&handles_->feeder);
    body_ended_ = true;
    TransferDone done_callback = std::move(splice_done_);
    stop_splice();
    if (done_callback)
      done_callback(0, spliced_);
  }

  void stop_splice() {
    splice_done_ = nullptr;
    if (splice_fd_ >= 0)
      ::close(splice_fd_);
    splice_fd_ = -1;
  }

  static void writable_cb(uv_timer_t* timer) {
    auto* self = static_cast<FakeExchange*>(timer->data);
    self->sent_ = 0;
    if (self->handler_ != nullptr && !self->done())
      self->handler_->on_writable();
  }

  uv_loop_t* loop_;
  Request request_;
  ExchangeHandler* handler_ = nullptr;
  struct Handles {
    uv_idle_t feeder{};
    uv_timer_t writable_timer{};
    int open = 2;
    static void closed(uv_handle_t* handle) {
      auto* self = static_cast<Handles*>(handle->data);
      if (--self->open == 0)
        delete self;
    }
  };
  Handles* handles_ = new Handles;
  bool closed_ = false;
  std::string body_;
  std::size_t piece_ = 64 * 1024;
  std::size_t offset_ = 0;
  bool paused_ = false;
  bool hold_open_ = false;
  bool waits_for_continue_ = false;
  bool body_ended_ = false;
  bool splice_allowed_ = false;
  int splice_fd_ = -1; // our duplicate of the pipe the body is spliced into
  bool splice_started_ = false;
  std::uint64_t spliced_ = 0;
  TransferDone splice_done_;
  std::size_t window_ = 0;
  std::uint64_t writable_delay_ms_ = 1;
  std::size_t sent_ = 0;
};

// A request as the server would hand it over: `target` split into path and raw query, and a
// Host header first.
inline Request make_request(std::string method, std::string target, HeaderList headers = {}) {
  Request r;
  r.method = std::move(method);
  r.target = target;
  std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos)
    r.raw_query = target.substr(q + 1);
  r.headers = std::move(headers);
  r.headers.insert(r.headers.begin(), Header{"Host", "localhost"});
  return r;
}

} // namespace ofwatchdog::testing
