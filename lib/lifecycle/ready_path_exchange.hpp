#pragma once
// The synthetic request `/_/ready` hands to the mode when `ready_path` is set: a GET of the
// literal `ready_path` (a `?` in it stays part of the path, as in the original) with the
// probe's headers and no body. Everything about the response goes straight to the probe.

#include <memory>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::lifecycle {

class ReadyPathExchange final : public Exchange, private ExchangeHandler {
public:
  ReadyPathExchange(std::shared_ptr<Exchange> probe, const std::string& ready_path);

  const Request& request() const override { return request_; }
  uv_loop_s* loop() const override { return probe_->loop(); }
  void set_handler(ExchangeHandler* handler) override;
  void pause_body() override {}
  void resume_body() override {}
  void send_head(ResponseHead head) override { probe_->send_head(std::move(head)); }
  bool send_body(std::string_view data) override { return probe_->send_body(data); }
  void finish() override { probe_->finish(); }
  void abort() override { probe_->abort(); }
  bool head_sent() const override { return probe_->head_sent(); }
  int status() const override { return probe_->status(); }
  std::uint64_t body_bytes_sent() const override { return probe_->body_bytes_sent(); }
  bool done() const override { return probe_->done(); }

private:
  // The probe's own body is read and dropped; its end is the synthetic body's end.
  void on_body(std::string_view) override {}
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

  std::shared_ptr<Exchange> probe_;
  Request request_;
  ExchangeHandler* handler_ = nullptr;
};

} // namespace ofwatchdog::lifecycle
