// ServerExchangeImpl as a SpliceResponder; see splice_responder.hpp.

#include "http/connection.hpp"
#include "http/server_exchange.hpp"

namespace ofwatchdog::http {

std::optional<SpliceResponder::TakenBody> ServerExchangeImpl::take_body() {
  if (done_ || connection_ == nullptr || handler_ == nullptr || body_taken_ || body_ended_ ||
      framing_.tunnel) {
    return std::nullopt;
  }
  std::optional<TakenBody> body = connection_->take_body();
  body_taken_ = body.has_value();
  return body;
}

void ServerExchangeImpl::body_taken_end(int status) {
  if (!body_taken_) {
    return;
  }
  body_taken_ = false;
  if (status == 0) {
    body_ended_ = true;
  }
  if (connection_ != nullptr) {
    connection_->taken_body_ended(status);
  }
}

int ServerExchangeImpl::begin_output_splice(bool& chunked) {
  if (done_ || connection_ == nullptr || !head_sent_ || output_spliced_ || file_running_ ||
      !framing_.body_allowed || framing_.content_length || framing_.tunnel ||
      !(framing_.chunked || framing_.close_delimited)) {
    return -1;
  }
  int socket = connection_->splice_output_socket();
  // Flushing may have run the handler's on_writable, or found the socket broken.
  if (socket < 0 || done_ || connection_ == nullptr) {
    return -1;
  }
  output_spliced_ = true;
  chunked = framing_.chunked;
  return socket;
}

void ServerExchangeImpl::output_spliced(std::uint64_t bytes) {
  body_bytes_ += bytes;
  framed_bytes_ += bytes;
}

void ServerExchangeImpl::output_splice_end(int status) {
  if (!output_spliced_) {
    return;
  }
  output_spliced_ = false;
  if (status == UV_ECANCELED) {
    // Abandoned, possibly inside a chunk: the body can only be ended by cutting it short.
    output_torn_ = true;
  } else if (status < 0 && connection_ != nullptr) {
    connection_->splice_failed();
  }
}

} // namespace ofwatchdog::http
