// The serializing mode's request: body first, output at the end; see
// collecting_fork_exchange.hpp.
#include "modes/fork/collecting_fork_exchange.hpp"

#include <fmt/format.h>

#include "modes/body_limit.hpp"
#include "util/fixed_decimals.hpp"

namespace ofwatchdog::modes {

namespace {

// The most of the held body offered to the stdin pipe in one write.
constexpr std::size_t kStdinPiece = 256 * 1024;

} // namespace

void CollectingForkExchange::begin() {
  // The whole body is read first; the function starts at its end, in on_body_end (at once,
  // inside set_handler, for a request without a body).
  exchange_->set_handler(this);
  take_body_in();
}

void CollectingForkExchange::on_cancel(CancelReason reason) {
  if (output_body_) {
    // The request is complete already: only the output's transfer is left to end.
    output_body_->stop(); // its callback ends the transfer
    return;
  }
  ForkExchange::on_cancel(reason);
}

// --- the request body, held ---------------------------------------------------------------

void CollectingForkExchange::on_body(std::string_view data) {
  // The function has not started yet: keep the body, in mapped blocks, so each block goes back
  // to the system as soon as it is queued for stdin. A chunked body (the only kind whose size
  // is not known in advance) is refused as soon as it passes max_body_size, so memory stays
  // bounded by the limit.
  if (completed() || child_ != nullptr || data.empty())
    return;
  body_bytes_ += data.size();
  if (body_over_limit(body_bytes_)) {
    body_.clear();
    on_refused(413, body_too_large_text());
    return;
  }
  body_.append(data);
}

void CollectingForkExchange::on_body_end() {
  if (completed() || child_ != nullptr)
    return;
  intake_.reset();
  if (spawn_function())
    feed_stdin();
}

void CollectingForkExchange::feed_stdin() {
  // The pipe queue is kept short so that the body is not held twice in memory. Once the rest
  // of the body is in its file, the kernel moves it (splice_stdin).
  while (!stdin_done_ && child_ != nullptr && !body_.empty() && !splice_stdin() &&
         child_->stdin_queued_bytes() < kStdinHighWater) {
    // Pieces of a block: most go straight into the pipe, and only what does not fit is copied
    // into the pipe's write queue, which is then over the mark and stops the loop.
    std::string_view piece = body_.front().substr(0, kStdinPiece);
    int rc = child_->write_stdin(piece);
    body_.consume(piece.size());
    if (rc != 0) {
      stop_feeding_stdin();
      return;
    }
  }
  if (!stdin_done_ && child_ != nullptr && body_.empty() && stdin_splice_ != Splice::running) {
    stdin_done_ = true;
    child_->close_stdin(); // after the queued writes, so the function reads all, then EOF
  }
}

void CollectingForkExchange::take_output(std::string_view data) {
  output_.append(data);
  maybe_splice_output();
}

void CollectingForkExchange::on_writable() {
  if (output_body_)
    output_body_->on_writable();
}

// --- the answer ---------------------------------------------------------------------------

void CollectingForkExchange::answer(const std::string& error) {
  std::uint64_t end_ns = exited_ns_.value_or(uv_hrtime());
  std::string duration = util::fixed(static_cast<double>(end_ns - started_ns()) / 1e9, 6);
  if (error.empty()) {
    HeaderList headers = answer_headers();
    headers.push_back({"X-Duration-Seconds", std::move(duration)});
    exchange_->send_head(
        ResponseHead{answer_status(), std::move(headers), std::uint64_t{output_.size()}});
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
                                      {{"Content-Type", std::string(kFunctionErrorContentType)},
                                       {"X-Duration-Seconds", std::move(duration)}},
                                      error.size()});
    exchange_->send_body(error);
  }
  exchange_->finish();
}

bool CollectingForkExchange::send_output_file() {
  std::optional<ByteQueue::FileRange> range = output_.file_range();
  // A short rest is cheaper copied than handed to the thread pool (see file_body.hpp).
  if (!range || range->length <= static_files::FileBody::kChunkBytes)
    return false;
  output_file_bytes_ = range->length;
  expect_callback(); // the exchange and this job stay until the body is out
  output_body_.emplace(context_.loop, *exchange_, range->fd, range->offset, range->length,
                       [this](int status) { on_output_file_sent(status); });
  output_body_->start();
  return true;
}

void CollectingForkExchange::on_output_file_sent(int status) {
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
  callback_done();
}

} // namespace ofwatchdog::modes
