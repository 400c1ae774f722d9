// The streaming mode's request: body and output as they come; see streaming_fork_exchange.hpp.
#include "modes/fork/streaming_fork_exchange.hpp"

namespace ofwatchdog::modes {

namespace {

// Below this many queued stdin bytes a paused body resumes (kStdinHighWater pauses it). The
// exchange may still deliver one socket read (64 KiB) after a pause, so the queue stays under
// about twice the high mark.
constexpr std::size_t kStdinLowWater = 16 * 1024;

} // namespace

void StreamingForkExchange::begin() {
  if (spawn_function()) {
    exchange_->set_handler(this); // starts the body (and `100 Continue`)
    try_splice_body();
  }
}

// --- stdin: the request body --------------------------------------------------------------

void StreamingForkExchange::on_body(std::string_view data) {
  if (stdin_done_ || child_ == nullptr)
    return; // the function no longer reads stdin: the rest of the body is dropped
  if (child_->write_stdin(data) != 0) {
    stop_feeding_stdin();
    return;
  }
  if (!body_paused_ && child_->stdin_queued_bytes() > kStdinHighWater) {
    body_paused_ = true;
    exchange_->pause_body();
  }
}

void StreamingForkExchange::on_body_end() {
  if (stdin_done_ || child_ == nullptr)
    return;
  stdin_done_ = true;
  child_->close_stdin(); // after the queued writes, so the function reads all, then EOF
}

void StreamingForkExchange::on_stdin_room() {
  if (body_paused_ && child_ != nullptr && child_->stdin_queued_bytes() <= kStdinLowWater) {
    body_paused_ = false;
    if (response_open())
      exchange_->resume_body();
  }
}

void StreamingForkExchange::on_stdin_gone() {
  // Keep reading the body (and dropping it) so the client is not stuck sending it.
  if (body_paused_) {
    body_paused_ = false;
    if (response_open())
      exchange_->resume_body();
  }
}

// --- stdout: the response body ------------------------------------------------------------

void StreamingForkExchange::take_output(std::string_view data) {
  // streaming-status (docs/decisions.md): the 200 is committed by the first byte of output, not
  // before.
  if (!exchange_->head_sent())
    exchange_->send_head(ResponseHead{answer_status(), answer_headers(), std::nullopt});
  // streaming-flush: every read goes out at once, so a line reaches the client while the
  // function is still running.
  bool more = exchange_->send_body(data);
  if (!more && response_open() && child_ != nullptr && !stdout_paused_) {
    stdout_paused_ = true;
    child_->pause_output(process::Stdio::out);
  }
  maybe_splice_output();
}

void StreamingForkExchange::on_cgi_head() {
  // Committed as soon as the empty line is read: a function may send its head, then take its
  // time over the body, as it may with the 200 of streaming-status.
  exchange_->send_head(ResponseHead{answer_status(), answer_headers(), std::nullopt});
}

void StreamingForkExchange::on_writable() {
  if (stdout_paused_ && child_ != nullptr && !output_splice_active_) {
    stdout_paused_ = false;
    child_->resume_output(process::Stdio::out);
  }
}

// --- the answer ---------------------------------------------------------------------------

void StreamingForkExchange::answer(const std::string& error) {
  exchange_->set_handler(nullptr);
  if (error.empty()) {
    if (!exchange_->head_sent())
      exchange_->send_head(ResponseHead{answer_status(), answer_headers(), std::uint64_t{0}});
    exchange_->finish();
  } else if (!exchange_->head_sent()) {
    exchange_->send_head(ResponseHead{
        500, {{"Content-Type", std::string(kFunctionErrorContentType)}}, error.size()});
    exchange_->send_body(error);
    exchange_->finish();
  } else {
    // Output has begun, so the 200 is on the wire: cut the stream short so that the client can
    // tell the answer is incomplete.
    exchange_->abort();
  }
}

} // namespace ofwatchdog::modes
