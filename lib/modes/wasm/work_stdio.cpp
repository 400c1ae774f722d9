#include "modes/wasm/work_stdio.hpp"

#include <fmt/format.h>

namespace ofwatchdog::modes {

namespace {

// The headers of the fork modes' refusals (body_limit.cpp's send_refusal): the client can tell
// the watchdog's answer from the function's.
HeaderList refusal_headers() {
  return {{"Content-Type", "text/plain; charset=utf-8"}, {"X-OpenFaaS-Internal", "of-watchdog"}};
}

} // namespace

WorkStdio::WorkStdio(WorkContext& work, std::string content_type, std::int64_t max_line)
    : work_(work), content_type_(std::move(content_type)),
      stderr_lines_(
          max_line, [this](std::string_view line) { work_.relay("stderr", line); },
          [this, max_line] {
            work_.log(fmt::format("Warning: the function's stderr has a line longer than "
                                  "log_buffer_size ({} bytes); long lines are logged in pieces "
                                  "of that size",
                                  max_line));
          }) {}

void WorkStdio::read_cgi_head(std::function<void()> stop_guest) {
  cgi_.emplace();
  stop_guest_ = std::move(stop_guest);
}

ResponseHead WorkStdio::response_head() const {
  if (cgi_ && cgi_->state() == CgiHeadReader::State::done)
    return {cgi_->status(), cgi_->response_headers(content_type_), std::nullopt};
  return {200, {{"Content-Type", content_type_}}, std::nullopt};
}

wasi::Stdio::Status WorkStdio::refuse_bad_head() {
  output_ = Output::refused;
  work_.log(fmt::format("Function's CGI head is not valid: {}", cgi_->problem()));
  std::string text = cgi_head_failure_text(cgi_->problem());
  work_.send_head({502, refusal_headers(), text.size()});
  work_.send_body(text);
  // Whatever the guest would write next has nowhere to go: it is stopped now rather than left
  // to run to its end or its timeout.
  if (stop_guest_)
    stop_guest_();
  return Status::interrupted;
}

bool WorkStdio::refuse_unfinished_head() {
  if (!cgi_ || cgi_->state() != CgiHeadReader::State::reading || !cgi_->started())
    return false;
  output_ = Output::refused;
  work_.log("Function's output ended inside its CGI head");
  std::string text = cgi_head_unfinished_text();
  work_.send_head({502, refusal_headers(), text.size()});
  work_.send_body(text);
  return true;
}

wasi::Stdio::ReadResult WorkStdio::read_stdin(std::span<std::uint8_t> buffer) {
  WorkRead got = work_.read_body(reinterpret_cast<char*>(buffer.data()), buffer.size());
  switch (got.status) {
  case WorkStatus::ok:
    return {Status::ok, got.size};
  case WorkStatus::end:
    return {Status::end, 0};
  default:
    return {Status::interrupted, 0};
  }
}

wasi::Stdio::Status WorkStdio::write_stdout(std::span<const std::uint8_t> bytes) {
  std::string_view data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  stdout_bytes_ += data.size();
  if (output_ == Output::refused)
    return Status::interrupted; // the 502 is sent; the guest is being stopped
  if (cgi_ && cgi_->state() != CgiHeadReader::State::done) {
    // Nothing of the head is sent, and nothing is held for it but the reader's bounded line:
    // only the bytes after it are the body.
    data = cgi_->feed(data);
    if (cgi_->state() == CgiHeadReader::State::bad)
      return refuse_bad_head();
    if (data.empty())
      return work_.cancelled() ? Status::interrupted : Status::ok;
  }
  if (output_ == Output::held) {
    if (held_.size() + data.size() <= kHeldOutputBytes) {
      held_.append(data);
      return work_.cancelled() ? Status::interrupted : Status::ok;
    }
    // Too much to hold: the response is committed now, without a length, and the held part
    // goes first.
    output_ = Output::committed;
    work_.send_head(response_head());
    std::string first = std::move(held_);
    held_.clear();
    if (!first.empty() && work_.send_body(first) != WorkStatus::ok)
      return Status::interrupted;
  }
  return work_.send_body(data) == WorkStatus::ok ? Status::ok : Status::interrupted;
}

wasi::Stdio::Status WorkStdio::write_stderr(std::span<const std::uint8_t> bytes) {
  stderr_lines_.feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  return work_.cancelled() ? Status::interrupted : Status::ok;
}

wasi::Stdio::WaitResult WorkStdio::wait(bool want_stdin, Deadline deadline) {
  switch (work_.wait(want_stdin, deadline)) {
  case WorkWait::ready:
    return WaitResult::stdin_ready;
  case WorkWait::timed_out:
    return WaitResult::timed_out;
  default:
    return WaitResult::interrupted;
  }
}

} // namespace ofwatchdog::modes
