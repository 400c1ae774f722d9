#pragma once
// An Exchange that wraps another one: every call goes through to the inner exchange, and the
// inner exchange's events come back through this object to the handler set on it. Subclasses
// override the few calls or events they change (a different request, a deadline, a header
// added to every response, ...). The kernel-moved bodies (send_file, splice_from,
// splice_body_to) go through too, so a mode behind a wrapper keeps its fast paths; a subclass
// that must see every body byte overrides them to return false.

#include <memory>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"

namespace ofwatchdog {

class OFWATCHDOG_API ForwardingExchange : public Exchange, protected ExchangeHandler {
public:
  explicit ForwardingExchange(std::shared_ptr<Exchange> inner) : inner_(std::move(inner)) {}
  // The inner exchange may outlive us: it must not call back into a destroyed handler.
  ~ForwardingExchange() override {
    if (handler_)
      inner_->set_handler(nullptr);
  }

  const Request& request() const override { return inner_->request(); }
  uv_loop_s* loop() const override { return inner_->loop(); }
  void set_handler(ExchangeHandler* handler) override {
    handler_ = handler;
    inner_->set_handler(handler ? static_cast<ExchangeHandler*>(this) : nullptr);
  }
  bool defer_continue() override { return inner_->defer_continue(); }
  void send_continue() override { inner_->send_continue(); }
  void pause_body() override { inner_->pause_body(); }
  void resume_body() override { inner_->resume_body(); }
  void send_head(ResponseHead head) override { inner_->send_head(std::move(head)); }
  bool send_body(std::string_view data) override { return inner_->send_body(data); }
  void finish() override { inner_->finish(); }
  void abort() override { inner_->abort(); }
  bool send_file(int fd, std::uint64_t offset, std::uint64_t length, TransferDone done) override {
    return inner_->send_file(fd, offset, length, std::move(done));
  }
  bool splice_from(int pipe_fd, TransferDone done) override {
    return inner_->splice_from(pipe_fd, std::move(done));
  }
  bool splice_body_to(int pipe_fd, TransferDone done) override {
    return inner_->splice_body_to(pipe_fd, std::move(done));
  }
  bool head_sent() const override { return inner_->head_sent(); }
  int status() const override { return inner_->status(); }
  std::uint64_t body_bytes_sent() const override { return inner_->body_bytes_sent(); }
  bool done() const override { return inner_->done(); }

protected:
  void on_body(std::string_view data) override {
    if (handler_)
      handler_->on_body(data);
  }
  void on_body_end() override {
    if (handler_)
      handler_->on_body_end();
  }
  void on_writable() override {
    if (handler_)
      handler_->on_writable();
  }
  void on_cancel(CancelReason reason) override {
    ExchangeHandler* handler = handler_;
    handler_ = nullptr;
    if (handler)
      handler->on_cancel(reason);
  }

  Exchange& inner() { return *inner_; }
  ExchangeHandler* handler() const { return handler_; }

private:
  std::shared_ptr<Exchange> inner_;
  ExchangeHandler* handler_ = nullptr;
};

} // namespace ofwatchdog
