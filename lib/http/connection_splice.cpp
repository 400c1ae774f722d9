// Connection: request and response bodies spliced around the parser and the write queue, for
// the exchange's splice_from / splice_body_to (server_exchange_splice.cpp).

#include "http/connection.hpp"

#include <algorithm>

namespace ofwatchdog::http {

std::optional<Connection::TakenBody> Connection::take_body() {
  if (life_ != Life::serving || peer_eof_ || body_taken_ || discard_body_ ||
      phase_ != Phase::body || !exchange_ || exchange_->tunnel() || parser_.upgrade() ||
      !parser_.head_complete()) {
    return std::nullopt;
  }
  const Request& request = exchange_->request();
  // A body that could be dropped cheaply if the response ends first stays with the parser: the
  // connection then reads the rest to keep itself for the next request, which it cannot do for a
  // body it no longer parses. Longer bodies close the connection in that case anyway.
  if (request.chunked || !request.content_length || *request.content_length <= kMaxDiscard) {
    return std::nullopt;
  }
  std::uint64_t remaining = parser_.body_remaining();
  uv_os_fd_t socket = -1;
  if (remaining == 0 || uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &socket) != 0) {
    return std::nullopt;
  }
  std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(unparsed(), remaining));
  TakenBody body{socket, std::string_view(inbuf_.data() + inpos_, take),
                                  remaining - take};
  inpos_ += take;
  body_taken_ = true;
  update_reading();
  return body;
}

void Connection::taken_body_ended(int status) {
  if (!body_taken_) {
    return;
  }
  body_taken_ = false;
  if (life_ == Life::closing) {
    return;
  }
  if (phase_ == Phase::body) {
    if (status == 0) {
      // The message is complete; what follows in the socket is the next request.
      parser_.skip_to_message_end();
      read_deadline_ = 0;
      phase_ = Phase::complete;
    } else {
      // The client went away (or the body could not be moved): as a failed read.
      write_failed_ = true;
    }
  }
  // Otherwise the response ended first and the connection closes after it.
  schedule();
}

int Connection::splice_output_socket() {
  if (life_ != Life::serving || pending_file_) {
    return -1;
  }
  if (!out_.idle()) {
    out_.flush();
    if (life_ == Life::closing || !out_.idle()) {
      return -1;
    }
  }
  uv_os_fd_t socket = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &socket) != 0) {
    return -1;
  }
  return socket;
}

void Connection::splice_failed() {
  if (life_ != Life::closing) {
    write_failed_ = true;
    schedule();
  }
}

} // namespace ofwatchdog::http
