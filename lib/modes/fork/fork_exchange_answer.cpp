// ForkExchange, ending: stopping the function early, the failure text, refusals and the access
// line. The answer itself is each kind's (`answer`). See fork_exchange.hpp for the flows.
#include "modes/fork/fork_exchange.hpp"

#include <csignal>
#include <utility>

#include <fmt/format.h>

#include "modes/body_limit.hpp"
#include "process/process_error.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::modes {

namespace {

// The original's wording when the function is stopped for a reason other than its own failure.
constexpr std::string_view kCanceledText = "context canceled";

} // namespace

void ForkExchange::kill_and_abandon(std::string_view why, Stop reason) {
  if (completed())
    return;
  OFW_INVARIANT(reason != Stop::running, "a reason to stop the function");
  bool first = stop_ == Stop::running;
  if (first || reason == Stop::timed_out)
    stop_ = reason;
  if (child_ == nullptr) {
    // Collecting, still reading the body: the function never starts.
    spawn_error_ =
        std::string(stop_ == Stop::timed_out ? process::kDeadlineExceededText : kCanceledText);
    complete();
    return;
  }
  // A running splice goes on until the answer ends the exchange: the output's is then cut
  // short (the answer is an error after output began), and the body's keeps dropping the body
  // once the function is gone, so the client can get that answer.
  if (first) {
    context_.log->info(fmt::format("Killing the function's process group: {}", why));
    child_->kill_group(SIGKILL);
  }
  // Stop waiting for the pipes: a process that left the group, or one the kernel has not
  // finished killing, must not keep the request open.
  for (process::Stdio which : {process::Stdio::in, process::Stdio::out, process::Stdio::err})
    child_->close_pipe(which);
  if (relay_)
    relay_->abandon();
  stdin_done_ = stdout_done_ = stderr_done_ = true;
  maybe_complete();
}

void ForkExchange::maybe_complete() {
  if (!completed() && exit_status_ && stdout_done_ && stderr_done_)
    complete();
}

void ForkExchange::complete() {
  if (completed())
    return;
  bool answer_open = response_open();
  answer_ = Answer::complete;
  std::string error = refusal_ ? std::string() : failure_text();
  if (refusal_ || (error.empty() && refuse_unfinished_cgi_head())) {
    respond_refusal(answer_open);
  } else {
    if (answer_open)
      answer(error);
    log_request(error.empty() ? std::to_string(answer_status()) : "500", error);
  }
  release();
}

void ForkExchange::close_answer() {
  if (answer_ == Answer::open)
    answer_ = Answer::closed;
}

void ForkExchange::respond_refusal(bool answer_open) {
  if (answer_open) {
    modes::send_refusal(*exchange_, refusal_->status, refusal_->text, refusal_->extra);
  }
  log_request(std::to_string(refusal_->status), refusal_->text);
}

std::string ForkExchange::failure_text() const {
  if (!spawn_error_.empty())
    return spawn_error_;
  std::string text = process::exit_error_text(*exit_status_);
  if (!text.empty())
    return text;
  // The function itself exited 0 but something of its group outlived the deadline or the
  // request, and its output may be cut short.
  if (stop_ == Stop::timed_out)
    return std::string(process::kDeadlineExceededText);
  if (stop_ == Stop::killed)
    return std::string(kCanceledText);
  return {};
}

void ForkExchange::log_request(std::string_view status, const std::string& error) {
  if (!error.empty())
    context_.log->info(error);
  AccessRecord record;
  record.status = status;
  // Bytes still going out (the collected output's file) count as sent, as copied ones do.
  record.bytes = static_cast<std::int64_t>(exchange_->body_bytes_sent() + bytes_in_flight());
  record.seconds = seconds_since_start();
  log_access(record);
}

} // namespace ofwatchdog::modes
