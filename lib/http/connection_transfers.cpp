// Connection: the kernel-moved bodies. A file body goes to the socket through the connection's
// FileSender (the exchange's send_file); request and response bodies are spliced around the
// parser and the write queue (the exchange's splice_body_to / splice_from,
// server_exchange_splice.cpp), with the socket lent out here.

#include "http/connection.hpp"

#include <algorithm>

#include "http/connection_host.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::http {

// --- file bodies ------------------------------------------------------------------------------

void Connection::send_file(uv_file fd, std::uint64_t offset, std::uint64_t length) {
  pending_file_ = PendingFile{fd, offset, length};
  // Started from pump() on the next turn at the earliest, so the exchange's FileDone never runs
  // inside its send_file.
  schedule();
}

void Connection::start_pending_file() {
  if (!pending_file_ || !out_.idle() || life_ == Life::closing || !exchange_) {
    return;
  }
  PendingFile file = *pending_file_;
  pending_file_.reset();
  int rc = 0;
  if (!files_) {
    files_ = std::make_unique<FileSender>(server_.loop());
    uv_os_fd_t socket = -1;
    rc = uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &socket);
    if (rc == 0) {
      rc = files_->open(socket);
    }
  } else if (!files_->quiet()) {
    OFW_UNREACHABLE("a file transfer started while the last one is still running (a cancelled "
                    "transfer closes the connection)");
  }
  if (rc == 0) {
    rc = files_->start(
        file.fd, file.offset, file.length,
        [this](std::uint64_t bytes) {
          if (exchange_) {
            exchange_->file_progress(bytes);
          }
        },
        [this](int status) { on_file_done(status); });
  }
  if (rc != 0) {
    // Out of descriptors, most likely: the mode sends the file the ordinary way instead.
    auto exchange = exchange_;
    exchange->file_finished(Exchange::kTransferUnsupported);
  }
}

void Connection::on_file_done(int status) {
  if (status < 0 && FileSender::is_socket_error(status)) {
    // Like a failed write: the exchange is cancelled (client_closed) on the next turn.
    write_failed_ = true;
    schedule();
    return;
  }
  if (exchange_) {
    auto exchange = exchange_;
    exchange->file_finished(status == FileSender::kUnsupported ? Exchange::kTransferUnsupported
                                                               : status);
  }
  pump();
}

void Connection::cancel_file() {
  pending_file_.reset();
  if (files_) {
    files_->cancel();
  }
}

// --- spliced bodies ---------------------------------------------------------------------------

std::optional<Connection::TakenBody> Connection::take_body() {
  if (life_ != Life::serving || (input_ != Input::reading && input_ != Input::paused) ||
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
  std::string_view buffered =
      in_.front(static_cast<std::size_t>(std::min<std::uint64_t>(in_.size(), remaining)));
  TakenBody body{socket, buffered, remaining - buffered.size()};
  in_.consume(buffered.size());
  move_to(Input::taken);
  return body;
}

void Connection::taken_body_ended(int status) {
  if (input_ != Input::taken) {
    return;
  }
  move_to(Input::paused);
  if (life_ == Life::closing) {
    return;
  }
  if (phase_ == Phase::body) {
    if (status == 0) {
      // The message is complete; what follows in the socket is the next request.
      parser_.skip_to_message_end();
      deadlines_.clear(ConnectionDeadlines::Kind::read);
      move_to(Phase::complete);
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
