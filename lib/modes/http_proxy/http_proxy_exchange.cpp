// One http-mode request; see http_proxy_exchange.hpp for the flow and the answers.
#include "modes/http_proxy/http_proxy_exchange.hpp"

#include <charconv>

#include <fmt/format.h>

#include "util/fixed_decimals.hpp"

#include "http/content_sniff.hpp"
#include "http/status_text.hpp"

#include "log/format.hpp"
#include "modes/body_limit.hpp"
#include "modes/exec_timeout.hpp"
#include "upstream/upstream_error.hpp"
#include "util/invariant.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::modes {

namespace {

using upstream::BodyFraming;

bool names_stream_type(const std::string* value) {
  if (value == nullptr)
    return false;
  return icontains(*value, "text/event-stream") || icontains(*value, "application/x-ndjson");
}

void set_header(HeaderList& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
  headers.push_back(Header{std::string(name), std::move(value)});
}

} // namespace

std::string upstream_status_line(int status, std::string_view reason) {
  // (Made for every proxied response: to_chars and appends, not a format string.)
  char digits[16];
  char* end = std::to_chars(digits, digits + sizeof digits, status).ptr;
  std::string line(digits, end);
  if (!reason.empty()) {
    line += ' ';
    line += reason;
  }
  return line;
}

void HttpProxyExchange::start(const ModeContext& context, upstream::UpstreamPool& pool,
                              std::shared_ptr<Exchange> exchange,
                              std::shared_ptr<JobRegistry> registry) {
  // The registry owns the job from here on; it finishes itself (see release).
  (new HttpProxyExchange(context, pool, std::move(exchange), std::move(registry)))->run();
}

HttpProxyExchange::HttpProxyExchange(const ModeContext& context, upstream::UpstreamPool& pool,
                                     std::shared_ptr<Exchange> exchange,
                                     std::shared_ptr<JobRegistry> registry)
    : RequestJob(context, std::move(exchange), std::move(registry)), pool_(pool),
      buffering_(context.config->http_buffer_req_body && exchange_->request().has_body()),
      stream_request_(names_stream_type(exchange_->request().header("Accept")) ||
                      (exchange_->request().header("Upgrade") != nullptr &&
                       upstream::is_upgrade_request(exchange_->request()))) {}

HttpProxyExchange::~HttpProxyExchange() = default;

void HttpProxyExchange::run() {
  const Request& request = exchange_->request();
  // max_body_size: a declared body over the limit is refused before anything goes upstream, and
  // before the handler is set, so a client waiting for `100 Continue` gets the 413 instead.
  if (refuse_declared_body_over_limit())
    return;

  start_deadline();

  // proxy-request-framing (docs/decisions.md): the client's framing is kept, except that buffering
  // always ends in a Content-Length.
  if (buffering_) {
    // framed once the whole body is in (on_body_end)
  } else if (request.chunked) {
    framing_.kind = BodyFraming::Kind::chunked;
  } else if (request.content_length) {
    framing_.kind = BodyFraming::Kind::length;
    framing_.length = *request.content_length;
  }

  // A client waiting for 100 Continue is answered by the upstream, whose answer depends on
  // seeing the expectation; a body buffered first is asked for by the server as it is read.
  if (!buffering_ && exchange_->defer_continue()) {
    expectation_ = Expectation::waiting;
    framing_.expect_continue = true;
  }

  // The body waits in the socket until the upstream is connected (unless it is being buffered);
  // the handler is set now so that a client that leaves is noticed at once.
  if (!buffering_) {
    client_paused_ = true;
    exchange_->pause_body();
  }
  exchange_->set_handler(this);
  if (!buffering_ && answer_ != Answer::complete)
    connect_upstream(true);
}

// --- the request ---------------------------------------------------------------------------

void HttpProxyExchange::connect_upstream(bool allow_reuse) {
  connection_ = allow_reuse ? pool_.take_idle() : nullptr;
  if (allow_reuse)
    attempt_ = connection_ != nullptr ? Attempt::reused : Attempt::fresh;
  if (connection_ != nullptr) {
    send_request();
    return;
  }
  connection_ = pool_.open(this);
}

void HttpProxyExchange::on_connected(const std::string& error) {
  if (!error.empty()) {
    drop_connection();
    fail_before_headers(502, error, false);
    return;
  }
  send_request();
}

void HttpProxyExchange::send_request() {
  const Request& request = exchange_->request();
  move_request(client_body_ended() ? RequestLeg::sent : RequestLeg::streaming);
  // A body that follows takes the head along in its first write, unless the upstream has to
  // answer the head first (100-continue).
  bool body_follows = buffering_ ? !body_.empty() : !client_body_ended() || !body_.empty();
  auto timing = body_follows && expectation_ != Expectation::waiting
                    ? upstream::UpstreamConnection::HeadTiming::with_first_body
                    : upstream::UpstreamConnection::HeadTiming::now;
  connection_->begin(this, request.method,
                     upstream::build_request_head(request, pool_.url(), framing_), timing);
  if (expectation_ == Expectation::waiting) {
    continue_wait_.start(context_.loop, kContinueWait, [this] { let_client_continue(); });
  }
  if (buffering_) {
    // The body stays at hand until the response starts, in case the request is retried.
    connection_->write(body_);
    connection_->set_request_complete(true);
    return;
  }
  if (!body_.empty()) {
    std::string pending = std::move(body_);
    body_.clear();
    send_body_piece(pending);
  }
  if (client_body_ended()) {
    end_request_body();
  } else {
    connection_->set_request_complete(false);
    if (client_paused_ &&
        connection_->queued_bytes() <= upstream::UpstreamConnection::kWriteHighWater) {
      client_paused_ = false;
      exchange_->resume_body();
    }
  }
}

void HttpProxyExchange::on_body(std::string_view data) {
  if (!response_open() || data.empty())
    return;
  if (buffering_ || !request_head_sent()) {
    // Buffering is bounded by what the client declared (the server enforces its length) and,
    // for a chunked body, by max_body_size when it is set. Without buffering the body is only
    // held here until the connection is up, and the client is paused meanwhile.
    body_.append(data);
    if (buffering_ && body_over_limit(body_.size()))
      on_refused(413, body_too_large_text());
    return;
  }
  send_body_piece(data);
  if (!client_paused_ &&
      connection_->queued_bytes() > upstream::UpstreamConnection::kWriteHighWater) {
    client_paused_ = true;
    exchange_->pause_body();
  }
}

void HttpProxyExchange::send_body_piece(std::string_view data) {
  if (framing_.kind == BodyFraming::Kind::chunked && reply_ != Reply::tunnel) {
    char size_line[24];
    auto end = fmt::format_to(size_line, "{:x}\r\n", data.size());
    connection_->write({std::string_view(size_line, static_cast<std::size_t>(end - size_line)),
                        data, std::string_view("\r\n")});
  } else {
    connection_->write(data);
  }
}

void HttpProxyExchange::on_body_end() {
  move_request(request_head_sent() ? RequestLeg::sent : RequestLeg::held);
  if (!response_open())
    return;
  if (buffering_) {
    if (connection_ == nullptr) {
      framing_.kind = BodyFraming::Kind::length;
      framing_.length = body_.size();
      connect_upstream(true);
    }
    return;
  }
  if (request_head_sent())
    end_request_body();
}

void HttpProxyExchange::end_request_body() {
  if (reply_ == Reply::tunnel) {
    // The client finished its side of the tunnel.
    connection_->shutdown_write();
    return;
  }
  if (framing_.kind == BodyFraming::Kind::chunked)
    connection_->write(std::string_view("0\r\n\r\n"));
  connection_->set_request_complete(true);
}

void HttpProxyExchange::let_client_continue() {
  if (expectation_ != Expectation::waiting)
    return;
  expectation_ = Expectation::answered;
  continue_wait_.stop();
  if (response_open())
    exchange_->send_continue();
}

void HttpProxyExchange::on_write_drained() {
  if (client_paused_ && response_open()) {
    client_paused_ = false;
    exchange_->resume_body();
  }
}

// --- the response --------------------------------------------------------------------------

void HttpProxyExchange::on_continue() {
  let_client_continue();
}

void HttpProxyExchange::on_response_head(upstream::UpstreamResponse& response) {
  if (expectation_ == Expectation::waiting) {
    // The final answer comes without a go-ahead: the client keeps its body, and the server
    // ends the connection after this response.
    expectation_ = Expectation::answered;
    continue_wait_.stop();
  }
  reply_ = response.switching_protocols ? Reply::tunnel : Reply::message;
  header_seconds_ = seconds_since_start();
  bool stream = stream_request_ || reply_ == Reply::tunnel ||
                names_stream_type(find_header(response.headers, "Content-Type"));
  if (stream)
    stop_deadline(); // proxy-timeout-scope: a stream is bounded only until its headers
  status_line_ = upstream_status_line(response.status, response.reason);
  declared_length_ =
      response.content_length ? static_cast<std::int64_t>(*response.content_length) : -1;
  if (buffering_) {
    body_.clear();
    body_.shrink_to_fit();
  }
  if (!response_open())
    return;
  bool sniff = needs_sniffing(response);
  ResponseHead head;
  head.status = response.status;
  // The response's own list is not read after this (the sniffing check is made above).
  head.headers =
      upstream::response_headers_for_client(std::move(response.headers), reply_ == Reply::tunnel);
  set_header(head.headers, "X-Duration-Seconds", util::fixed(header_seconds_, 6));
  head.content_length = response.content_length;
  if (reply_ == Reply::tunnel) {
    // After a 101 the client's body is the tunnel (see http/server.hpp): an end of the request
    // message seen before is not the end of the client's side, whose own on_body_end follows.
    if (request_leg_ == RequestLeg::sent)
      move_request(RequestLeg::streaming);
  }
  if (sniff) {
    // The type comes from the first body bytes, as Go's server picks it at the first write.
    held_head_ = std::move(head);
    return;
  }
  exchange_->send_head(std::move(head));
}

bool HttpProxyExchange::needs_sniffing(const upstream::UpstreamResponse& response) const {
  if (reply_ == Reply::tunnel || find_header(response.headers, "Content-Type") != nullptr)
    return false;
  if (response.status < 200 || response.status == 204 || response.status == 304)
    return false; // no body may follow
  if (exchange_->request().method == "HEAD")
    return false;
  return !(response.content_length && *response.content_length == 0);
}

void HttpProxyExchange::send_held_head(std::string_view first_bytes) {
  if (!held_head_)
    return;
  ResponseHead head = std::move(*held_head_);
  held_head_.reset();
  // Go sniffs only when there is something to sniff: an empty body gets no Content-Type.
  if (!first_bytes.empty())
    set_header(head.headers, "Content-Type", std::string(http::sniff_content_type(first_bytes)));
  exchange_->send_head(std::move(head));
}

void HttpProxyExchange::on_response_body(std::string_view data) {
  if (!response_open())
    return;
  send_held_head(data);
  if (!exchange_->send_body(data) && !upstream_paused_ && connection_ != nullptr) {
    upstream_paused_ = true;
    connection_->pause_reading();
  }
}

void HttpProxyExchange::on_writable() {
  if (upstream_paused_ && connection_ != nullptr) {
    upstream_paused_ = false;
    connection_->resume_reading();
  }
}

void HttpProxyExchange::on_response_end() {
  if (close_answer()) {
    send_held_head({});
    // A body the client is still sending is no longer wanted; the connection gives up on it.
    exchange_->set_handler(nullptr);
    exchange_->finish();
  }
  upstream::UpstreamConnection* connection = connection_;
  connection_ = nullptr;
  if (connection != nullptr)
    pool_.give_back(connection);
  complete();
}

} // namespace ofwatchdog::modes
