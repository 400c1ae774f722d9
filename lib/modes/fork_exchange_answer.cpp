// ForkExchange, ending: stopping the function early, and the answer a request gets (the
// collected output or a 500, with its access line). See fork_exchange.hpp for the flows.
#include "modes/fork_exchange.hpp"

#include <csignal>
#include <utility>

#include <fmt/format.h>

#include "modes/body_limit.hpp"
#include "process/process_error.hpp"

namespace ofwatchdog::modes {

namespace {

constexpr std::string_view kErrorContentType = "text/plain; charset=utf-8";

// The original's wording when the function is stopped for a reason other than its own failure.
constexpr std::string_view kCanceledText = "context canceled";

} // namespace

void ForkExchange::kill_and_abandon(std::string_view why) {
  if (completed_)
    return;
  if (child_ == nullptr) {
    // Collect policy, still reading the body: the function never starts.
    spawn_error_ = std::string(timed_out_ ? process::kDeadlineExceededText : kCanceledText);
    complete();
    return;
  }
  // A running splice goes on until the answer ends the exchange: the output's is then cut
  // short (the answer is an error after output began), and the body's keeps dropping the body
  // once the function is gone, so the client can get that answer.
  if (child_ != nullptr) {
    if (!killed_) {
      killed_ = true;
      context_.log->info(fmt::format("Killing the function's process group: {}", why));
      child_->kill_group(SIGKILL);
    }
    // Stop waiting for the pipes: a process that left the group, or one the kernel has not
    // finished killing, must not keep the request open.
    for (process::Stdio which : {process::Stdio::in, process::Stdio::out, process::Stdio::err}) {
      child_->close_pipe(which);
    }
  }
  if (relay_)
    relay_->abandon();
  stdin_done_ = stdout_done_ = stderr_done_ = true;
  maybe_complete();
}

void ForkExchange::maybe_complete() {
  if (!completed_ && exit_status_ && stdout_done_ && stderr_done_)
    complete();
}

void ForkExchange::complete() {
  if (completed_)
    return;
  completed_ = true;
  if (refusal_) {
    respond_refusal();
  } else {
    std::string error = failure_text();
    respond(error);
    log_request(error.empty() ? "200" : "500", error);
  }
  release();
}

void ForkExchange::respond_refusal() {
  if (response_open_) {
    response_open_ = false;
    send_refusal(refusal_->status, refusal_->text);
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
  if (timed_out_)
    return std::string(process::kDeadlineExceededText);
  if (killed_)
    return std::string(kCanceledText);
  return {};
}

void ForkExchange::respond(const std::string& error) {
  if (!response_open_)
    return;
  if (policy_ == OutputPolicy::collect) {
    respond_collected(error);
    return;
  }
  response_open_ = false;
  exchange_->set_handler(nullptr);
  if (error.empty()) {
    if (!exchange_->head_sent()) {
      exchange_->send_head(
          ResponseHead{200, {{"Content-Type", context_.config->content_type}}, std::uint64_t{0}});
    }
    exchange_->finish();
  } else if (!exchange_->head_sent()) {
    exchange_->send_head(
        ResponseHead{500, {{"Content-Type", std::string(kErrorContentType)}}, error.size()});
    exchange_->send_body(error);
    exchange_->finish();
  } else {
    // Output has begun, so the 200 is on the wire: cut the stream short so that the client can
    // tell the answer is incomplete.
    exchange_->abort();
  }
}

void ForkExchange::respond_collected(const std::string& error) {
  response_open_ = false;
  std::uint64_t end_ns = exited_ns_.value_or(uv_hrtime());
  std::string duration = fmt::format("{:.6f}", static_cast<double>(end_ns - started_ns()) / 1e9);
  if (error.empty()) {
    exchange_->send_head(ResponseHead{200,
                                      {{"Content-Type", context_.config->content_type},
                                       {"X-Duration-Seconds", std::move(duration)}},
                                      std::uint64_t{output_.size()}});
    // The first bytes, in heap blocks, go into the connection's queue behind the head; a large
    // rest, in the queue's in-memory file, goes out with sendfile (see send_output_file).
    while (!output_.empty() && !output_.file_range()) {
      std::string_view piece = output_.front();
      exchange_->send_body(piece);
      output_.consume(piece.size());
    }
    if (send_output_file())
      return; // the handler stays set until the file is sent: it hears of a cancel
    exchange_->set_handler(nullptr);
    // Each block is copied into the connection's queue and freed at once, so the output is
    // not held twice. The write timeout bounds a client that reads too slowly.
    while (!output_.empty()) {
      std::string_view piece = output_.front();
      exchange_->send_body(piece);
      output_.consume(piece.size());
    }
  } else {
    exchange_->set_handler(nullptr);
    output_.clear();
    exchange_->send_head(ResponseHead{500,
                                      {{"Content-Type", std::string(kErrorContentType)},
                                       {"X-Duration-Seconds", std::move(duration)}},
                                      error.size()});
    exchange_->send_body(error);
  }
  exchange_->finish();
}

bool ForkExchange::send_output_file() {
  std::optional<ByteQueue::FileRange> range = output_.file_range();
  // A short rest is cheaper copied than handed to the thread pool (see file_body.hpp).
  if (!range || range->length <= static_files::FileBody::kChunkBytes)
    return false;
  output_file_bytes_ = range->length;
  ++closes_pending_; // the exchange and this object stay until the body is out
  output_body_.emplace(context_.loop, *exchange_, range->fd, range->offset, range->length,
                       [this](int status) {
                         Entry entry(this);
                         on_output_file_sent(status);
                       });
  output_body_->start();
  return true;
}

void ForkExchange::on_output_file_sent(int status) {
  // UV_ECANCELED: the exchange was cancelled (on_cancel stopped the body) and is over already.
  if (status != UV_ECANCELED) {
    exchange_->set_handler(nullptr);
    if (status == 0) {
      exchange_->finish();
    } else {
      // The head promised a length that can no longer be met: the client must see the cut.
      context_.log->info(fmt::format("Error sending the output: {}", uv_strerror(status)));
      exchange_->abort();
    }
  }
  output_.clear();
  exchange_.reset();
  --closes_pending_;
}

void ForkExchange::log_request(std::string_view status, const std::string& error) {
  if (!error.empty())
    context_.log->info(error);
  AccessRecord record;
  record.status = status;
  // Bytes still going out from the output file count as sent, as copied ones do.
  record.bytes = static_cast<std::int64_t>(exchange_->body_bytes_sent() + output_file_bytes_);
  record.seconds = seconds_since_start();
  log_access(record);
}

} // namespace ofwatchdog::modes
