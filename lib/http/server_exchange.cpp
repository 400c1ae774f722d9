#include "http/server_exchange.hpp"

#include "http/request_checks.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::http {

namespace {
bool response_says_close(const HeaderList& headers) {
  return header_has_token(headers, "Connection", "close");
}
} // namespace

ServerExchangeImpl::ServerExchangeImpl(ExchangeConnection* connection, Request request,
                                       bool expects_continue, bool upgrade_request)
    : connection_(connection), loop_(connection->loop()), request_(std::move(request)),
      continue_(expects_continue ? Continue::automatic : Continue::none),
      upgrade_request_(upgrade_request) {}

ServerExchangeImpl::~ServerExchangeImpl() {
  stop_output_splice();
  stop_body_splice();
}

// The one place the response state changes.
void ServerExchangeImpl::move_to(Output next) {
  bool legal = false;
  switch (output_) {
  case Output::none:
    legal = next == Output::head || next == Output::ended_headless;
    break;
  case Output::head:
    legal = next == Output::file || next == Output::splice || next == Output::ended;
    break;
  case Output::file:
  case Output::splice:
    legal = next == Output::head || next == Output::ended;
    break;
  case Output::ended:
  case Output::ended_headless:
    break;
  }
  OFW_INVARIANT(legal, "an illegal move of an exchange's response state");
  output_ = next;
}

// The one place the request body's state changes.
void ServerExchangeImpl::move_to(Input next) {
  bool legal = false;
  switch (input_) {
  case Input::unclaimed:
    legal = next == Input::read || next == Input::ended;
    break;
  case Input::read:
    legal = next == Input::spliced || next == Input::ended;
    break;
  case Input::spliced:
    legal = next == Input::read || next == Input::ended;
    break;
  case Input::ended:
    // A body-less request that became a tunnel ends twice: the message, then the tunnel.
    legal = next == Input::ended;
    break;
  }
  OFW_INVARIANT(legal, "an illegal move of an exchange's request body state");
  input_ = next;
}

void ServerExchangeImpl::set_handler(ExchangeHandler* handler) {
  if (done()) {
    return;
  }
  handler_ = handler;
  if (handler == nullptr || connection_ == nullptr) {
    return;
  }
  if (input_ == Input::unclaimed) {
    move_to(Input::read);
    // The client holds the body back until told to go on; it is told when a handler starts
    // reading, unless the handler asked to tell it itself.
    if (continue_ == Continue::automatic)
      send_continue();
  }
  connection_->body_interest_changed();
}

bool ServerExchangeImpl::defer_continue() {
  if (continue_ == Continue::automatic && input_ == Input::unclaimed)
    continue_ = Continue::deferred;
  return continue_ == Continue::deferred;
}

void ServerExchangeImpl::send_continue() {
  // Not once a final response has begun (it answered the expectation), nor after the body came
  // anyway: the client no longer waits for anything.
  if (!continue_pending() || output_ != Output::none || input_ == Input::ended ||
      connection_ == nullptr)
    return;
  continue_ = Continue::sent;
  connection_->out().write(kContinueResponse);
}

void ServerExchangeImpl::pause_body() {
  body_paused_ = true;
}

void ServerExchangeImpl::resume_body() {
  if (!body_paused_) {
    return;
  }
  body_paused_ = false;
  if (connection_ != nullptr && !done()) {
    connection_->body_interest_changed();
  }
}

void ServerExchangeImpl::send_head(ResponseHead head) {
  if (output_ != Output::none || connection_ == nullptr) {
    return;
  }
  move_to(Output::head);
  status_ = head.status;
  bool http10 = request_.version_major == 1 && request_.version_minor == 0;
  if (head.status == 101 && upgrade_request_ && !http10) {
    framing_ = Framing{};
    framing_.tunnel = true;
    connection_->out().write(
        serialize_head(head.status, head.headers, framing_, connection_->date(), {}));
    connection_->begin_tunnel();
    return;
  }
  framing_ = choose_framing(request_.method, http10, head.status, head.content_length);
  if (framing_.close_delimited || response_says_close(head.headers)) {
    connection_->close_after_response();
  }
  // A client still holding back its body for a 100 Continue that will never come cannot be
  // told where the next request starts, so the connection ends with this response.
  if (continue_pending() && input_ != Input::ended) {
    connection_->close_after_response();
  }
  std::string_view connection_header;
  if (connection_->last_response()) {
    // HTTP/1.0 clients close by default; only HTTP/1.1 ones need to be told.
    if (!http10)
      connection_header = "close";
  } else if (http10) {
    connection_header = "keep-alive";
  }
  connection_->out().write(
      serialize_head(head.status, head.headers, framing_, connection_->date(), connection_header));
}

bool ServerExchangeImpl::send_body(std::string_view data) {
  if (done() || connection_ == nullptr) {
    return true;
  }
  // These bytes would overtake the file's or the splice's: the caller broke the rule.
  OFW_INVARIANT(output_ != Output::file && output_ != Output::splice,
                "send_body called while a file or spliced body is being sent");
  if (output_ == Output::none) {
    send_head(ResponseHead{});
  }
  body_bytes_ += data.size();
  if (!framing_.body_allowed || data.empty()) {
    return true;
  }
  if (framing_.content_length) {
    std::uint64_t room = *framing_.content_length - framed_bytes_;
    if (data.size() > room) {
      data = data.substr(0, static_cast<std::size_t>(room));
    }
  }
  framed_bytes_ += data.size();
  if (framing_.chunked) {
    // The chunk's framing and data go out as one write, without assembling them in a copy.
    char size_line[24];
    std::string_view header = chunk_header(size_line, data.size());
    connection_->out().write({header, data, std::string_view("\r\n")});
  } else {
    connection_->out().write(data);
  }
  if (connection_->out().queued() > kHighWater) {
    wants_writable_ = true;
    return false;
  }
  return true;
}

void ServerExchangeImpl::finish() {
  if (done()) {
    return;
  }
  if (output_torn_) {
    abort(); // a spliced chunk may be incomplete on the wire: no clean end is possible
    return;
  }
  if (connection_ == nullptr) {
    mark_done();
    stop_body_splice();
    return;
  }
  if (output_ == Output::none) {
    ResponseHead head;
    head.content_length = 0;
    send_head(std::move(head));
  }
  bool complete = true;
  if (framing_.chunked) {
    connection_->out().write(kLastChunk);
  } else if (framing_.body_allowed && framing_.content_length &&
             framed_bytes_ < *framing_.content_length) {
    // Fewer bytes than announced: the client can only learn that from the connection closing.
    complete = false;
  }
  ExchangeConnection* connection = connection_;
  mark_done();
  connection->response_ended(complete ? ExchangeConnection::ResponseEnd::complete
                                      : ExchangeConnection::ResponseEnd::cut_short);
  // After the response's end, so the connection closes once it is written, not at once.
  stop_body_splice();
}

void ServerExchangeImpl::abort() {
  if (done()) {
    return;
  }
  ExchangeConnection* connection = connection_;
  bool head_was_sent = head_sent();
  mark_done();
  if (connection == nullptr) {
    stop_body_splice();
    return;
  }
  // A response already begun is cut short: its framing tells the peer. A tunnel has no framing
  // that could, and before any head there is nothing to cut: closing at once is the only
  // signal then, and waiting for the queue to drain would delay it.
  connection->response_ended(head_was_sent && !framing_.tunnel
                                 ? ExchangeConnection::ResponseEnd::cut_short
                                 : ExchangeConnection::ResponseEnd::reset);
  stop_body_splice();
}

bool ServerExchangeImpl::can_send_file() const {
  return output_ == Output::head && connection_ != nullptr && framing_.body_allowed &&
         framing_.content_length.has_value() && !framing_.chunked && !framing_.tunnel &&
         !framing_.close_delimited;
}

bool ServerExchangeImpl::send_file(int fd, std::uint64_t offset, std::uint64_t length,
                                   TransferDone done) {
  // Only raw bytes inside a Content-Length can go straight from the file: no framing to add.
  if (!can_send_file() || length == 0 || length > *framing_.content_length - framed_bytes_) {
    return false;
  }
  move_to(Output::file);
  file_sent_ = 0;
  file_done_ = std::move(done);
  connection_->send_file(fd, offset, length);
  return true;
}

void ServerExchangeImpl::file_progress(std::uint64_t bytes) {
  body_bytes_ += bytes;
  framed_bytes_ += bytes;
  file_sent_ += bytes;
}

void ServerExchangeImpl::file_finished(int status) {
  if (output_ != Output::file) {
    return;
  }
  move_to(Output::head);
  TransferDone done = std::move(file_done_);
  file_done_ = nullptr;
  if (done) {
    done(status, file_sent_);
  }
}

void ServerExchangeImpl::on_done(std::function<void(const Exchange&)> callback) {
  if (done()) {
    callback(*this);
    return;
  }
  done_callbacks_.push_back(std::move(callback));
}

void ServerExchangeImpl::deliver_body(std::string_view data) {
  if (!done() && handler_ != nullptr) {
    handler_->on_body(data);
  }
}

void ServerExchangeImpl::deliver_body_end() {
  move_to(Input::ended);
  if (!done() && handler_ != nullptr) {
    handler_->on_body_end();
  }
}

void ServerExchangeImpl::deliver_writable() {
  if (!wants_writable_ || done() || handler_ == nullptr) {
    return;
  }
  wants_writable_ = false;
  handler_->on_writable();
}

void ServerExchangeImpl::cancel(CancelReason reason) {
  if (done()) {
    return;
  }
  ExchangeHandler* handler = handler_;
  // The connection has dropped a file transfer already.
  end_output(false);
  stop_body_splice();
  if (handler != nullptr) {
    handler->on_cancel(reason);
  }
  run_done_callbacks();
}

void ServerExchangeImpl::mark_done() {
  // Ended by the handler (finish, abort): a file still being sent is the connection's to drop.
  end_output(true);
  run_done_callbacks();
}

void ServerExchangeImpl::end_output(bool cancel_file) {
  Output was = output_;
  move_to(head_sent() ? Output::ended : Output::ended_headless);
  handler_ = nullptr;
  if (was == Output::file) {
    file_done_ = nullptr;
    if (cancel_file && connection_ != nullptr) {
      connection_->cancel_file();
    }
  }
  stop_output_splice();
}

void ServerExchangeImpl::run_done_callbacks() {
  auto callbacks = std::move(done_callbacks_);
  done_callbacks_.clear();
  for (auto& callback : callbacks) {
    callback(*this);
  }
}

} // namespace ofwatchdog::http
