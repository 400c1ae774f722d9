// StreamingCallImpl: see streaming_call.hpp.
#include "functions/streaming_call.hpp"

#include <fmt/format.h>

#include "modes/body_limit.hpp"

namespace ofwatchdog::functions {

StreamingCallImpl::StreamingCallImpl(WorkContext& work, const CallSetup& setup)
    : work_(work), setup_(setup) {
  // The token trips on the thread that cancels (the loop): a stop_source is a shared state, so
  // the copy in the callback stays valid after this call is gone.
  work_.on_cancel([stop = stop_]() mutable { stop.request_stop(); });
}

std::string_view StreamingCallImpl::call_id() const {
  const std::string* id = work_.request().header("X-Call-Id");
  return id ? std::string_view(*id) : std::string_view();
}

std::optional<Duration> StreamingCallImpl::time_left() const {
  if (!setup_.deadline)
    return std::nullopt;
  auto left = *setup_.deadline - std::chrono::steady_clock::now();
  return std::max(Duration::zero(), std::chrono::duration_cast<Duration>(left));
}

WorkRead StreamingCallImpl::read(char* buffer, std::size_t capacity) {
  if (state_ == State::over)
    return {WorkStatus::cancelled, 0};
  WorkRead got = work_.read_body(buffer, capacity);
  if (got.status == WorkStatus::ok) {
    body_read_ += got.size;
    if (setup_.max_body_size != 0 && body_read_ > setup_.max_body_size) {
      refuse_body();
      return {WorkStatus::cancelled, 0};
    }
  } else if (got.status == WorkStatus::cancelled) {
    stop_.request_stop(); // at once, not when the loop's cancellation reaches the token
  }
  return got;
}

void StreamingCallImpl::refuse_body() {
  std::string text = modes::body_too_large_text(setup_.max_body_size);
  work_.log(text);
  if (state_ == State::no_head) {
    work_.send_head(
        {413,
         {{"Content-Type", "text/plain; charset=utf-8"}, {"X-OpenFaaS-Internal", "of-watchdog"}},
         text.size()});
    work_.send_body(text);
  } else {
    work_.fail(text); // the head is out: the response is cut short
  }
  state_ = State::over;
  stop_.request_stop();
}

bool StreamingCallImpl::send_head(int status, HeaderList headers,
                                  std::optional<std::uint64_t> content_length) {
  if (state_ != State::no_head)
    return false;
  if (check_response_head(status, headers))
    return false;
  body_left_ = content_length;
  state_ = State::head_sent;
  work_.send_head({status, std::move(headers), content_length});
  return true;
}

bool StreamingCallImpl::write(std::string_view data) {
  if (state_ == State::over)
    return false;
  if (state_ == State::no_head)
    send_head(200, {}, std::nullopt);
  if (body_left_) {
    if (data.size() > *body_left_)
      return false;
    *body_left_ -= data.size();
  }
  if (work_.send_body(data) == WorkStatus::ok)
    return true;
  stop_.request_stop(); // at once, not when the loop's cancellation reaches the token
  return false;
}

void StreamingCallImpl::fail(std::string_view why) {
  if (state_ == State::over)
    return;
  work_.log(fmt::format("Function failed: {}", why));
  state_ = State::over;
  work_.fail(std::string(kFailureText));
}

} // namespace ofwatchdog::functions
