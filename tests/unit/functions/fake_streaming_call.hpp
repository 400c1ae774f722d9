#pragma once
// A StreamingCall without a loop or a worker: the body comes from a string, the response is
// recorded as the function and the C ABI leave it. For the pure logic above the call.

#include <optional>
#include <stop_token>
#include <string>

#include "ofwatchdog/function.hpp"

namespace ofwatchdog::testing {

class FakeStreamingCall final : public StreamingCall {
public:
  explicit FakeStreamingCall(Request request, std::string body = {})
      : request_(std::move(request)), body_(std::move(body)) {}

  std::string_view call_id() const override { return "fake-call"; }
  std::optional<Duration> time_left() const override { return std::nullopt; }
  std::stop_token stop_token() const override { return stop.get_token(); }
  std::optional<CancelReason> stop_reason() const override { return std::nullopt; }
  void log(std::string_view line) override { logged += std::string(line) + "\n"; }

  const Request& request() const override { return request_; }
  WorkRead read(char* buffer, std::size_t capacity) override {
    if (stop.stop_requested())
      return {WorkStatus::cancelled, 0};
    if (offset_ == body_.size())
      return {WorkStatus::end, 0};
    std::size_t n = std::min(capacity, body_.size() - offset_);
    body_.copy(buffer, n, offset_);
    offset_ += n;
    return {WorkStatus::ok, n};
  }
  bool send_head(int s, HeaderList h, std::optional<std::uint64_t> length) override {
    if (status || check_response_head(s, h))
      return false;
    status = s;
    headers = std::move(h);
    content_length = length;
    return true;
  }
  bool write(std::string_view data) override {
    if (stop.stop_requested())
      return false;
    if (!status)
      status = 200;
    written += data;
    return true;
  }
  void fail(std::string_view why) override { failed = std::string(why); }

  std::stop_source stop;
  std::optional<int> status;
  HeaderList headers;
  std::optional<std::uint64_t> content_length;
  std::string written;
  std::optional<std::string> failed;
  std::string logged;

private:
  Request request_;
  std::string body_;
  std::size_t offset_ = 0;
};

inline Request fake_request(std::string method, std::string path, HeaderList headers = {}) {
  Request r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

} // namespace ofwatchdog::testing
