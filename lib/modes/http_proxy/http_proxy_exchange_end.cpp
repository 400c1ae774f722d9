// One http-mode request's failures and its end: retries on a fresh connection, the 502 and 504
// answers, cancellation and shutdown, the access line and the release of the job; see
// http_proxy_exchange.hpp for the flow. The request's way there is http_proxy_exchange.cpp.
#include "modes/http_proxy/http_proxy_exchange.hpp"

#include <fmt/format.h>

#include "util/fixed_decimals.hpp"

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

// Methods whose request can be sent twice without changing the outcome (RFC 9110 §9.2.2).
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

} // namespace

bool HttpProxyExchange::can_retry(const upstream::UpstreamConnection& failed) const {
  bool body_at_hand = buffering_ || framing_.kind == BodyFraming::Kind::none;
  return attempt_ == Attempt::reused && !failed.response_started() &&
         idempotent(exchange_->request().method) && body_at_hand;
}

void HttpProxyExchange::on_failure(const std::string& cause) {
  bool retry = connection_ != nullptr && reply_ == Reply::none && can_retry(*connection_);
  drop_connection();
  if (retry && response_open()) {
    // The upstream closed the idle connection as it was reused: nothing was processed.
    attempt_ = Attempt::retry;
    connect_upstream(false);
    return;
  }
  if (reply_ == Reply::none) {
    fail_before_headers(502, cause, false);
    return;
  }
  context_.log->info(fmt::format("Error copying response body: {}", cause));
  if (close_answer()) {
    send_held_head({}); // so the client sees the status, then a body cut short
    exchange_->abort();
  }
  complete();
}

void HttpProxyExchange::on_timeout() {
  if (answer_ == Answer::complete)
    return;
  std::string killed =
      fmt::format("Upstream HTTP killed due to exec_timeout: {}", go_duration(deadline()));
  drop_connection();
  if (reply_ == Reply::none) {
    fail_before_headers(504, std::string(upstream::kDeadlineText), true);
    return;
  }
  context_.log->info(killed);
  context_.log->info(fmt::format("Error copying response body: {}", upstream::kDeadlineText));
  if (close_answer()) {
    send_held_head({});
    exchange_->abort();
  }
  complete();
}

void HttpProxyExchange::fail_before_headers(int status, const std::string& cause, bool timed_out) {
  log_upstream_error(cause);
  if (timed_out) {
    // proxy-client-disconnect: the timeout that applied, which X-Timeout may have shortened.
    context_.log->info(
        fmt::format("Upstream HTTP killed due to exec_timeout: {}", go_duration(deadline())));
  }
  header_seconds_ = seconds_since_start();
  status_line_ = upstream_status_line(status, status == 504 ? "Gateway Timeout" : "Bad Gateway");
  declared_length_ = 0;
  if (close_answer()) {
    exchange_->set_handler(nullptr);
    ResponseHead head;
    head.status = status;
    head.headers = {{"X-OpenFaaS-Internal", "of-watchdog"},
                    {"X-Duration-Seconds", util::fixed(header_seconds_, 6)}};
    head.content_length = 0;
    exchange_->send_head(std::move(head));
    exchange_->finish();
  }
  complete();
}

void HttpProxyExchange::on_deadline() {
  on_timeout();
}

void HttpProxyExchange::on_refused(int status, const std::string& text) {
  context_.log->info(text);
  body_.clear();
  header_seconds_ = seconds_since_start();
  status_line_ = upstream_status_line(status, http::status_text(status));
  declared_length_ = static_cast<std::int64_t>(text.size());
  if (close_answer()) {
    send_refusal(status, text);
  }
  complete();
}

void HttpProxyExchange::log_upstream_error(std::string_view cause) {
  // Every failure is logged before release() lets go of the exchange.
  OFW_INVARIANT(exchange_ != nullptr, "an upstream error logged after the exchange was released");
  const Request& request = exchange_->request();
  context_.log->info(fmt::format("Upstream HTTP request error: {} \"{}\": {}",
                                 upstream::title_case_method(request.method),
                                 upstream::full_url(pool_.url(), request.target), cause));
}

void HttpProxyExchange::drop_connection() {
  if (request_head_sent())
    move_request(client_body_ended() ? RequestLeg::held : RequestLeg::holding);
  if (connection_ != nullptr) {
    connection_->close();
    connection_ = nullptr;
  }
}

void HttpProxyExchange::on_cancel(CancelReason reason) {
  close_answer();
  if (answer_ == Answer::complete)
    return;
  // proxy-client-disconnect: a client that left is not a timeout. Its upstream connection is
  // closed, not pooled: the upstream may still be writing a response nobody will read.
  drop_connection();
  log_upstream_error(reason == CancelReason::client_closed ? std::string_view("client disconnected")
                                                           : cancel_reason_text(reason));
  complete();
}

void HttpProxyExchange::shut_down() {
  if (answer_ == Answer::complete)
    return;
  drop_connection();
  if (close_answer()) {
    exchange_->set_handler(nullptr);
    exchange_->abort();
  }
  complete();
}

// --- ending --------------------------------------------------------------------------------

void HttpProxyExchange::complete() {
  if (answer_ == Answer::complete)
    return;
  OFW_INVARIANT(answer_ == Answer::closed, "the client's side closed before the request completes");
  answer_ = Answer::complete;
  write_access_line();
  release();
}

void HttpProxyExchange::write_access_line() {
  const Request& request = exchange_->request();
  if (status_line_.empty())
    return;
  AccessRecord record;
  record.status = status_line_;
  record.bytes = declared_length_;
  record.seconds = header_seconds_;
  const std::string* call_id = request.header("X-Call-Id");
  record.call_id = call_id != nullptr && !call_id->empty() ? std::string_view(*call_id) : "none";
  record.with_call_id = context_.config->log_callid;
  log_access(record);
}

void HttpProxyExchange::move_request(RequestLeg to) {
  bool legal = false;
  switch (request_leg_) {
  case RequestLeg::holding:
    legal = to == RequestLeg::streaming || to == RequestLeg::held;
    break;
  case RequestLeg::held:
    legal = to == RequestLeg::sent;
    break;
  case RequestLeg::streaming:
    legal = to == RequestLeg::sent || to == RequestLeg::holding;
    break;
  case RequestLeg::sent:
    legal = to == RequestLeg::held || to == RequestLeg::streaming;
    break;
  }
  OFW_INVARIANT(legal, "a legal move of the request's way upstream");
  request_leg_ = to;
}

bool HttpProxyExchange::close_answer() {
  if (answer_ != Answer::open)
    return false;
  answer_ = Answer::closed;
  return true;
}

void HttpProxyExchange::release() {
  drop_connection();
  stop_deadline();
  continue_wait_.stop();
  if (exchange_ && !exchange_->done())
    exchange_->set_handler(nullptr);
  exchange_.reset();
  finish_job();
}

} // namespace ofwatchdog::modes
