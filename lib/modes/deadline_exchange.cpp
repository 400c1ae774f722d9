#include "modes/deadline_exchange.hpp"

#include <chrono>
#include <exception>

#include <fmt/format.h>

#include "log/format.hpp"
#include "modes/access_line.hpp"
#include "modes/body_limit.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::modes {

DeadlineExchange::DeadlineExchange(std::shared_ptr<Exchange> inner, Duration timeout, Logger& log,
                                   bool log_callid)
    : ForwardingExchange(std::move(inner)), log_(log), log_callid_(log_callid),
      started_ns_(uv_hrtime()) {
  deadline_.start(loop(), timeout, [this] { on_deadline(); });
}

DeadlineExchange::~DeadlineExchange() = default;

void DeadlineExchange::set_timeout_answer(std::string text, std::string log_line) {
  timeout_text_ = std::move(text);
  timeout_log_line_ = std::move(log_line);
}

void DeadlineExchange::send_head(ResponseHead head) {
  if (!ended_ && !answering_)
    ForwardingExchange::send_head(std::move(head));
}

bool DeadlineExchange::send_body(std::string_view data) {
  return ended_ || answering_ ? false : ForwardingExchange::send_body(data);
}

void DeadlineExchange::finish() {
  if (ended_ || answering_)
    return;
  ForwardingExchange::finish();
  end();
}

void DeadlineExchange::abort() {
  if (ended_ || answering_)
    return;
  ForwardingExchange::abort();
  end();
}

template <typename Call> void DeadlineExchange::guarded(Call&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    handler_threw(e.what());
  } catch (...) {
    handler_threw("an exception that is not a std::exception");
  }
}

void DeadlineExchange::handler_threw(std::string_view what) {
  log_.info(fmt::format("Handler failed: {}", what));
  // Nothing more reaches a handler that threw: it may be half-destroyed.
  ForwardingExchange::set_handler(nullptr);
  if (ended_ || answering_ || ForwardingExchange::done())
    return;
  if (ForwardingExchange::head_sent()) {
    abort();
    return;
  }
  constexpr std::string_view kText = "Internal Server Error: the function failed\n";
  send_whole_response(*this, 500, {{"Content-Type", "text/plain; charset=utf-8"}}, kText);
}

void DeadlineExchange::on_body(std::string_view data) {
  body_seen_ += data.size();
  if (body_limit_ != 0 && body_seen_ > body_limit_) {
    refuse_body();
    return;
  }
  guarded([&] { ForwardingExchange::on_body(data); });
}

void DeadlineExchange::on_body_end() {
  // A handler that ends here may drop the last reference to this exchange.
  std::shared_ptr<DeadlineExchange> self = shared_from_this();
  guarded([&] { ForwardingExchange::on_body_end(); });
}

void DeadlineExchange::on_writable() {
  guarded([&] { ForwardingExchange::on_writable(); });
}

void DeadlineExchange::refuse_body() {
  std::shared_ptr<DeadlineExchange> self = shared_from_this();
  std::string text = body_too_large_text(body_limit_);
  log_.info(text);
  // The handler hears first, then the answer is ours, as for the deadline.
  answering_ = true;
  guarded([&] { ForwardingExchange::on_cancel(CancelReason::body_too_large); });
  answering_ = false;
  ForwardingExchange::set_handler(nullptr);
  if (ended_ || ForwardingExchange::done())
    return;
  if (ForwardingExchange::head_sent()) {
    abort();
    return;
  }
  send_whole_response(
      *this, 413,
      {{"Content-Type", "text/plain; charset=utf-8"}, {"X-OpenFaaS-Internal", "of-watchdog"}},
      text);
}

void DeadlineExchange::on_cancel(CancelReason reason) {
  // The handler, told it is cancelled, may drop the last reference to this exchange.
  std::shared_ptr<DeadlineExchange> self = shared_from_this();
  end();
  guarded([&] { ForwardingExchange::on_cancel(reason); });
}

void DeadlineExchange::on_deadline() {
  if (ended_)
    return;
  // The handler may drop its reference when it is cancelled; we go on using ourselves below.
  std::shared_ptr<DeadlineExchange> self = shared_from_this();
  // Tell the handler first, while it may still stop its own work, then answer for it.
  answering_ = true;
  guarded([&] { ForwardingExchange::on_cancel(CancelReason::exec_timeout); });
  Exchange& real = inner();
  if (real.head_sent()) {
    real.abort();
  } else if (timeout_text_.empty()) {
    real.send_head({504, {{"X-OpenFaaS-Internal", "of-watchdog"}}, 0});
    real.finish();
  } else {
    real.send_head(
        {504,
         {{"Content-Type", "text/plain; charset=utf-8"}, {"X-OpenFaaS-Internal", "of-watchdog"}},
         timeout_text_.size()});
    real.send_body(timeout_text_);
    real.finish();
  }
  if (!timeout_log_line_.empty())
    log_.info(timeout_log_line_);
  else
    log_.info(fmt::format("Handler killed due to exec_timeout after {:.4f}s: {} {}",
                          static_cast<double>(uv_hrtime() - started_ns_) / 1e9, request().method,
                          request().target));
  end();
}

void DeadlineExchange::end() {
  if (ended_)
    return;
  ended_ = true;
  deadline_.stop();
  const std::string* call_id = request().header("X-Call-Id");
  std::string code = std::to_string(status() != 0 ? status() : 200);
  AccessRecord record;
  record.status = code;
  record.bytes = static_cast<std::int64_t>(body_bytes_sent());
  record.seconds = static_cast<double>(uv_hrtime() - started_ns_) / 1e9;
  record.call_id = call_id ? std::string_view(*call_id) : std::string_view();
  record.with_call_id = log_callid_;
  log_access_line(log_, request(), record);
}

} // namespace ofwatchdog::modes
