#pragma once
// The synthetic request `/_/ready` hands to the mode when `ready_path` is set: a GET of the
// literal `ready_path` (a `?` in it stays part of the path, as in the original) with the
// probe's headers and no body. Everything about the response goes straight to the probe.

#include <memory>
#include <string>

#include "ofwatchdog/forwarding_exchange.hpp"

namespace ofwatchdog::lifecycle {

class ReadyPathExchange final : public ForwardingExchange {
public:
  ReadyPathExchange(std::shared_ptr<Exchange> probe, const std::string& ready_path);

  const Request& request() const override { return request_; }
  // The synthetic request has no body, so there is nothing to pause.
  void pause_body() override {}
  void resume_body() override {}

private:
  // The probe's own body is read and dropped; its end is the synthetic body's end.
  void on_body(std::string_view) override {}

  Request request_;
};

} // namespace ofwatchdog::lifecycle
