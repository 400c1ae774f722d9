// ServerExchangeImpl: the two spliced bodies of the Exchange contract. The exchange owns the
// BodySplice between the connection's socket and the caller's pipe; the connection only lends
// its socket (take_body, splice_output_socket) and learns how the transfer ended.

#include "http/server_exchange.hpp"

namespace ofwatchdog::http {

static_assert(Exchange::kTransferUnsupported == UV_ENOSYS);

bool ServerExchangeImpl::splice_from(int pipe_fd, TransferDone done) {
  if (output_ != Output::head || connection_ == nullptr || !framing_.body_allowed ||
      framing_.content_length || framing_.tunnel ||
      !(framing_.chunked || framing_.close_delimited)) {
    return false;
  }
  int socket = connection_->splice_output_socket();
  // Flushing may have run the handler's on_writable (which may have ended the exchange or
  // started another transfer), or found the socket broken.
  if (socket < 0 || output_ != Output::head || connection_ == nullptr) {
    return false;
  }
  BodySplice::Options options;
  options.source = pipe_fd;
  options.sink = socket;
  options.chunked = framing_.chunked;
  auto splice = std::make_unique<BodySplice>(loop_);
  int rc = splice->start(
      std::move(options),
      [this](std::uint64_t bytes) {
        body_bytes_ += bytes;
        framed_bytes_ += bytes;
        output_spliced_ += bytes;
      },
      [this](int status) { on_output_splice_done(status); });
  if (rc != 0) {
    retire(std::move(splice)); // nothing was written: the caller goes on the ordinary way
    return false;
  }
  output_splice_ = std::move(splice);
  move_to(Output::splice);
  output_spliced_ = 0;
  output_done_ = std::move(done);
  return true;
}

void ServerExchangeImpl::on_output_splice_done(int status) {
  bool sink_failed = output_splice_->sink_failed();
  retire(std::move(output_splice_));
  move_to(Output::head);
  TransferDone done = std::move(output_done_);
  output_done_ = nullptr;
  if (sink_failed) {
    // The client's side: as a failed write, the exchange is cancelled on the next turn.
    if (connection_ != nullptr) {
      connection_->splice_failed();
    }
    return;
  }
  if (status < 0) {
    // Reading the pipe failed, perhaps inside a chunk: the body can only be cut short now.
    output_torn_ = true;
  }
  if (done) {
    done(status, output_spliced_);
  }
}

bool ServerExchangeImpl::splice_body_to(int pipe_fd, TransferDone done) {
  if (this->done() || connection_ == nullptr || handler_ == nullptr || input_ != Input::read ||
      framing_.tunnel) {
    return false;
  }
  std::optional<ExchangeConnection::TakenBody> taken = connection_->take_body();
  if (!taken) {
    return false;
  }
  BodySplice::Options options;
  options.source = taken->socket;
  options.sink = pipe_fd;
  options.prefix.assign(taken->buffered);
  options.length = taken->remaining + taken->buffered.size();
  // A reader that stops early still gets its answer sent: the rest of the body is read and
  // dropped meanwhile, as on the ordinary path.
  options.drain_on_sink_error = true;
  body_spliced_ = taken->buffered.size();
  auto splice = std::make_unique<BodySplice>(loop_);
  int rc = splice->start(
      std::move(options), [this](std::uint64_t bytes) { body_spliced_ += bytes; },
      [this](int status) { on_body_splice_done(status); });
  if (rc != 0) {
    // The connection has handed the body over and cannot take it back (out of descriptors,
    // most likely): as a failed read, the exchange is cancelled on the next turn.
    retire(std::move(splice));
    connection_->taken_body_ended(rc);
    return true;
  }
  body_splice_ = std::move(splice);
  move_to(Input::spliced);
  body_done_ = std::move(done);
  return true;
}

void ServerExchangeImpl::on_body_splice_done(int status) {
  retire(std::move(body_splice_));
  move_to(status == 0 ? Input::ended : Input::read);
  TransferDone done = std::move(body_done_);
  body_done_ = nullptr;
  if (connection_ != nullptr) {
    // An error (the client went away, or sent less than it declared) cancels the exchange on
    // the next turn; the caller hears of it through on_cancel only.
    connection_->taken_body_ended(status);
  }
  if (status == 0 && done) {
    done(0, body_spliced_);
  }
}

void ServerExchangeImpl::stop_output_splice() {
  if (!output_splice_) {
    return;
  }
  // Stopped maybe inside a chunk: the body can only be ended by cutting it short.
  output_torn_ = true;
  output_done_ = nullptr;
  retire(std::move(output_splice_));
}

void ServerExchangeImpl::stop_body_splice() {
  if (!body_splice_) {
    return;
  }
  body_done_ = nullptr;
  retire(std::move(body_splice_));
  move_to(Input::read);
  if (connection_ != nullptr) {
    // The body did not reach its end: the connection cannot carry another request.
    connection_->taken_body_ended(UV_ECANCELED);
  }
}

void ServerExchangeImpl::retire(std::unique_ptr<BodySplice> splice) {
  // Its close callback may come after this exchange is gone; it frees the splice itself.
  BodySplice* raw = splice.release();
  raw->close([raw] { delete raw; });
}

} // namespace ofwatchdog::http
