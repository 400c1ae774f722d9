// Connection: the request flow. One request at a time: parse its head, hand it out (or answer it
// here), feed its body while the exchange wants it, and start on the next request only once the
// response has been written out completely, so pipelined responses keep their order.

#include <exception>

#include "http/connection.hpp"
#include "http/listener.hpp"
#include "http/request_checks.hpp"

namespace ofwatchdog::http {

void Connection::pump() {
  if (processing_) {
    reprocess_ = true;
    return;
  }
  processing_ = true;
  start_pending_file();
  do {
    reprocess_ = false;
    while (life_ == Life::serving && step()) {
    }
  } while (reprocess_ && life_ == Life::serving);
  processing_ = false;
  if (life_ != Life::closing) {
    update_reading();
    update_timer();
  }
}

// One move forward; false when nothing can happen until an event arrives.
bool Connection::step() {
  switch (phase_) {
  case Phase::complete:
    if (!response_done_ || !out_.idle()) {
      return false;
    }
    finish_exchange();
    return true;
  case Phase::body:
    if (body_taken_) {
      return false; // the body goes around the parser (connection_splice.cpp)
    }
    if (!discard_body_ && !(exchange_ && exchange_->wants_body())) {
      // After a 101 the end of a body-less request is a formality that must not wait for the
      // handler: only then can the tunnel (and a half-close in it) be seen.
      bool formal_end = exchange_ && exchange_->tunnel() && !exchange_->request().has_body();
      if (!formal_end) {
        return false;
      }
    }
    return feed_parser();
  case Phase::tunnel:
    return step_tunnel();
  case Phase::waiting:
  case Phase::head:
    if (unparsed() == 0) {
      return false;
    }
    return feed_parser();
  }
  return false;
}

bool Connection::feed_parser() {
  // In the body phase the parser is fed even with no bytes: a body-less message ends only when
  // the parser is resumed after its head.
  // A body is fed at most one read buffer at a time, so a handler that pauses in on_body gets
  // no more than that after its pause.
  std::size_t len = unparsed();
  if (phase_ == Phase::body && len > kReadAhead) {
    len = kReadAhead;
  }
  auto result = parser_.feed(inbuf_.data() + inpos_, len);
  inpos_ += result.consumed;
  switch (result.status) {
  case RequestParser::Status::need_more:
    return result.consumed > 0 && phase_ != Phase::complete;
  case RequestParser::Status::head_done:
    on_head();
    return true;
  case RequestParser::Status::message_done:
    on_message_end();
    return true;
  case RequestParser::Status::error:
    on_parse_error();
    return false;
  }
  return false;
}

bool Connection::step_tunnel() {
  if (!exchange_ || !exchange_->wants_body()) {
    return false;
  }
  // A local reference: the handler may end the exchange from inside its callbacks.
  auto exchange = exchange_;
  if (unparsed() > 0) {
    std::size_t len = unparsed() < kReadAhead ? unparsed() : kReadAhead;
    std::string_view data(inbuf_.data() + inpos_, len);
    inpos_ += len;
    exchange->deliver_body(data);
    return true;
  }
  if (peer_eof_ && !tunnel_end_delivered_) {
    tunnel_end_delivered_ = true;
    exchange->deliver_body_end();
    return true;
  }
  return false;
}

void Connection::on_body_bytes(std::string_view data) {
  if (discard_body_ || !exchange_) {
    discarded_ += data.size();
    if (discarded_ > kMaxDiscard && phase_ == Phase::body) {
      // Too much left to drop: stop parsing and close once the response is out.
      close_after_response_ = true;
      discard_body_ = false;
      phase_ = Phase::complete;
      read_deadline_ = 0;
    }
    return;
  }
  // A local reference: the handler may end the exchange (and drop the last other reference)
  // from inside on_body.
  auto exchange = exchange_;
  exchange->deliver_body(data);
}

void Connection::on_head() {
  Request request = parser_.take_request();
  request.remote_address = remote_;
  first_request_ = false;
  if (!request.has_body()) {
    read_deadline_ = 0;
  }
  if (!wants_keep_alive(request) || parser_.upgrade()) {
    // After an upgrade request nothing on the connection is HTTP any more: either a 101 turns
    // it into a tunnel, or it ends with this response.
    close_after_response_ = true;
  }
  std::optional<ServerAnswer> answer = check_request(request);
  if (answer && answer->raw) {
    // "400 Bad Request: malformed Host header" logs as the status and, in brackets, the reason.
    std::string_view text = answer->raw_text;
    std::size_t colon = text.find(": ");
    server_.log_refusal(remote_, text.substr(0, colon),
                        colon == std::string_view::npos ? "refused by the server"
                                                        : text.substr(colon + 2));
    answer_and_close(answer->raw_text);
    return;
  }
  start_exchange(std::move(request));
  auto exchange = exchange_;
  if (answer) {
    std::string body = std::move(answer->body);
    exchange->send_head(std::move(answer->head));
    exchange->send_body(body);
    exchange->finish();
    return;
  }
  try {
    server_.dispatch(exchange);
  } catch (const std::exception&) {
    // A callback that throws broke its promise to answer; end the exchange so the connection
    // does not hang on it.
    exchange->abort();
  }
}

void Connection::start_exchange(Request request) {
  bool wants_continue = expects_continue(request);
  exchange_ = std::make_shared<ServerExchangeImpl>(this, std::move(request), wants_continue,
                                                   parser_.upgrade());
  phase_ = Phase::body;
  response_done_ = false;
  discard_body_ = false;
  discarded_ = 0;
  write_deadline_ = deadline_after(server_.limits().write_timeout.count());
}

void Connection::on_message_end() {
  read_deadline_ = 0;
  phase_ = Phase::complete;
  if (parser_.upgrade()) {
    close_after_response_ = true;
  }
  if (exchange_ && !exchange_->done() && exchange_->tunnel()) {
    // The 101 came before the end of the request: the handler already knows the body goes on
    // as the tunnel, so this end is not reported; the tunnel's end will be.
    phase_ = Phase::tunnel;
    return;
  }
  bool discarding = discard_body_;
  discard_body_ = false;
  if (exchange_ && !discarding) {
    auto exchange = exchange_;
    exchange->deliver_body_end();
  }
}

void Connection::on_parse_error() {
  std::string_view status = "400 Bad Request";
  if (parser_.error() == RequestParser::Error::header_too_large) {
    status = "431 Request Header Fields Too Large";
  } else if (parser_.error() == RequestParser::Error::not_implemented) {
    status = "501 Not Implemented";
  }
  if (phase_ == Phase::body) {
    on_body_parse_error(status);
    return;
  }
  server_.log_refusal(remote_, status, parser_.error_reason());
  answer_and_close(status);
}

// The body (or trailers) of a request already handed out turned out malformed. The function
// must not go on with a body that ends somewhere no peer agrees on, so the exchange is cancelled
// (its function stopped). The client gets a 400 if no response has started; otherwise the
// response stops short, which is the only signal left.
void Connection::on_body_parse_error(std::string_view status) {
  bool answered = exchange_ && exchange_->done();
  bool started = exchange_ && exchange_->head_sent();
  server_.log_refusal(remote_, status, parser_.error_reason());
  if (answered) {
    close_once_answered(); // the response was already complete: let it go out, then close
    return;
  }
  cancel_exchange(CancelReason::bad_request);
  if (started) {
    close_now();
    return;
  }
  answer_and_close(status);
}

void Connection::answer_and_close(std::string_view status) {
  out_.write(raw_error_response(status));
  close_once_answered();
}

void Connection::close_once_answered() {
  close_after_response_ = true;
  response_done_ = true;
  discard_body_ = false;
  phase_ = Phase::complete;
  read_deadline_ = 0;
  pump();
}

void Connection::body_interest_changed() {
  if (life_ != Life::closing) {
    schedule();
  }
}

void Connection::response_ended(bool reusable) {
  if (life_ == Life::closing) {
    return;
  }
  response_done_ = true;
  if (!reusable) {
    close_after_response_ = true;
  }
  if (phase_ == Phase::tunnel) {
    // Whatever the client still sends has no reader any more.
    phase_ = Phase::complete;
  } else if (phase_ == Phase::body) {
    // The response is done before the request body: read and drop what is left of the body if
    // that is cheap, so the connection can carry the next request; otherwise close after the
    // response. A client still waiting for 100 Continue may never send its body at all.
    const Request& request = exchange_->request();
    bool continue_pending = exchange_->continue_pending();
    bool too_long = request.content_length && *request.content_length > kMaxDiscard;
    if (close_after_response_ || continue_pending || too_long) {
      close_after_response_ = true;
      phase_ = Phase::complete;
      read_deadline_ = 0;
    } else {
      discard_body_ = true;
      discarded_ = 0;
    }
  }
  schedule();
}

void Connection::finish_exchange() {
  exchange_.reset();
  write_deadline_ = 0;
  response_done_ = false;
  discard_body_ = false;
  if (close_after_response_ || draining_) {
    begin_graceful_close();
    return;
  }
  phase_ = Phase::waiting;
  idle_deadline_ = deadline_after(server_.limits().idle_timeout.count());
  if (unparsed() > 0) {
    // The next request was already read ahead (pipelining): its read deadline starts now.
    phase_ = Phase::head;
    idle_deadline_ = 0;
    read_deadline_ = deadline_after(server_.limits().read_timeout.count());
  }
}

} // namespace ofwatchdog::http
