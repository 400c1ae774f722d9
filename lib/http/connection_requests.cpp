// Connection: the request flow. One request at a time: parse its head, hand it out (or answer it
// here), feed its body while the exchange wants it, and start on the next request only once the
// response has been written out completely, so pipelined responses keep their order.

#include <exception>

#include "http/connection.hpp"
#include "http/connection_host.hpp"
#include "http/request_checks.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::http {

using Deadline = ConnectionDeadlines::Kind;

// The one place the request phase changes.
void Connection::move_to(Phase next) {
  bool legal = false;
  switch (phase_) {
  case Phase::waiting:
    legal = next == Phase::head;
    break;
  case Phase::head:
    legal = next == Phase::body || next == Phase::complete;
    break;
  case Phase::body:
    legal = next == Phase::discarding || next == Phase::complete || next == Phase::tunnel;
    break;
  case Phase::discarding:
    legal = next == Phase::complete;
    break;
  case Phase::complete:
    // complete -> complete: a message that ends after it was given up (too long to drop, or
    // refused) ends where it is.
    legal = next == Phase::waiting || next == Phase::complete || next == Phase::tunnel;
    break;
  case Phase::tunnel:
    legal = next == Phase::complete;
    break;
  }
  OFW_INVARIANT(legal, "an illegal move of a connection's request phase");
  phase_ = next;
}

// The one place the response state changes.
void Connection::move_to(Response next) {
  bool legal = false;
  switch (next) {
  case Response::none:
    legal = response_ == Response::ended;
    break;
  case Response::running:
    legal = response_ == Response::none;
    break;
  case Response::ended:
    legal = true;
    break;
  }
  OFW_INVARIANT(legal, "an illegal move of a connection's response state");
  response_ = next;
}

void Connection::pump() {
  if (pump_ != Pump::idle) {
    pump_ = Pump::rerun;
    return;
  }
  pump_ = Pump::running;
  start_pending_file();
  do {
    pump_ = Pump::running;
    while (life_ == Life::serving && step()) {
    }
  } while (pump_ == Pump::rerun && life_ == Life::serving);
  pump_ = Pump::idle;
  if (life_ != Life::closing) {
    update_reading();
    update_timer();
  }
}

// One move forward; false when nothing can happen until an event arrives.
bool Connection::step() {
  switch (phase_) {
  case Phase::complete:
    if (response_ != Response::ended || !out_.idle()) {
      return false;
    }
    finish_exchange();
    return true;
  case Phase::body:
  case Phase::discarding:
    if (input_ == Input::taken) {
      return false; // the body goes around the parser (connection_transfers.cpp)
    }
    if (phase_ == Phase::body && !(exchange_ && exchange_->wants_body())) {
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
    if (in_.empty()) {
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
  std::size_t len = in_.size();
  if ((phase_ == Phase::body || phase_ == Phase::discarding) && len > kReadAhead) {
    len = kReadAhead;
  }
  auto result = parser_.feed(in_.data(), len);
  in_.consume(result.consumed);
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
  if (!in_.empty()) {
    std::string_view data = in_.front(kReadAhead);
    in_.consume(data.size());
    exchange->deliver_body(data);
    return true;
  }
  if (input_ == Input::ended) {
    move_to(Input::end_delivered);
    exchange->deliver_body_end();
    return true;
  }
  return false;
}

void Connection::on_body_bytes(std::string_view data) {
  if (phase_ == Phase::discarding || !exchange_) {
    discarded_ += data.size();
    if (discarded_ > kMaxDiscard && (phase_ == Phase::body || phase_ == Phase::discarding)) {
      // Too much left to drop: stop parsing and close once the response is out.
      close_after_response_ = true;
      move_to(Phase::complete);
      deadlines_.clear(Deadline::read);
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
    deadlines_.clear(Deadline::read);
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
  move_to(Phase::body);
  move_to(Response::running);
  discarded_ = 0;
  deadlines_.start(Deadline::write, server_.limits().write_timeout.count());
}

void Connection::on_message_end() {
  deadlines_.clear(Deadline::read);
  bool discarding = phase_ == Phase::discarding;
  if (parser_.upgrade()) {
    close_after_response_ = true;
  }
  if (exchange_ && !exchange_->done() && exchange_->tunnel()) {
    // The 101 came before the end of the request: the handler already knows the body goes on
    // as the tunnel, so this end is not reported; the tunnel's end will be.
    move_to(Phase::tunnel);
    return;
  }
  move_to(Phase::complete);
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
  if (phase_ == Phase::body || phase_ == Phase::discarding) {
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
  move_to(Response::ended);
  move_to(Phase::complete);
  deadlines_.clear(Deadline::read);
  pump();
}

void Connection::body_interest_changed() {
  if (life_ != Life::closing) {
    schedule();
  }
}

void Connection::response_ended(ResponseEnd end) {
  if (end == ResponseEnd::reset) {
    // The exchange already counts as done; nothing more of it will be written, so just go.
    close_now();
    return;
  }
  if (life_ == Life::closing) {
    return;
  }
  move_to(Response::ended);
  if (end == ResponseEnd::cut_short) {
    close_after_response_ = true;
  }
  if (phase_ == Phase::tunnel) {
    // Whatever the client still sends has no reader any more.
    move_to(Phase::complete);
  } else if (phase_ == Phase::body) {
    // The response is done before the request body: read and drop what is left of the body if
    // that is cheap, so the connection can carry the next request; otherwise close after the
    // response. A client still waiting for 100 Continue may never send its body at all.
    const Request& request = exchange_->request();
    bool continue_pending = exchange_->continue_pending();
    bool too_long = request.content_length && *request.content_length > kMaxDiscard;
    if (close_after_response_ || continue_pending || too_long) {
      close_after_response_ = true;
      move_to(Phase::complete);
      deadlines_.clear(Deadline::read);
    } else {
      move_to(Phase::discarding);
      discarded_ = 0;
    }
  }
  schedule();
}

void Connection::finish_exchange() {
  exchange_.reset();
  deadlines_.clear(Deadline::write);
  move_to(Response::none);
  if (close_after_response_ || draining_) {
    begin_graceful_close();
    return;
  }
  move_to(Phase::waiting);
  deadlines_.start(Deadline::idle, server_.limits().idle_timeout.count());
  if (!in_.empty()) {
    // The next request was already read ahead (pipelining): its read deadline starts now.
    move_to(Phase::head);
    deadlines_.clear(Deadline::idle);
    deadlines_.start(Deadline::read, server_.limits().read_timeout.count());
  }
}

} // namespace ofwatchdog::http
