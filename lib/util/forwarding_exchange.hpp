#pragma once
// An Exchange that wraps another one: every call goes through to the inner exchange, and the
// inner exchange's events come back through this object to the handler set on it. Subclasses
// override the few calls or events they change (a different request, a deadline, ...).

#include <memory>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog {

class ForwardingExchange : public Exchange, protected ExchangeHandler {
public:
  explicit ForwardingExchange(std::shared_ptr<Exchange> inner) : inner_(std::move(inner)) {}

  const Request& request() const override { return inner_->request(); }
  uv_loop_s* loop() const override { return inner_->loop(); }
  void set_handler(ExchangeHandler* handler) override {
    handler_ = handler;
    inner_->set_handler(handler ? static_cast<ExchangeHandler*>(this) : nullptr);
  }
  void pause_body() override { inner_->pause_body(); }
  void resume_body() override { inner_->resume_body(); }
  void send_head(ResponseHead head) override { inner_->send_head(std::move(head)); }
  bool send_body(std::string_view data) override { return inner_->send_body(data); }
  void finish() override { inner_->finish(); }
  void abort() override { inner_->abort(); }
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
