#include "modes/deadline_exchange.hpp"

#include <chrono>

#include <fmt/format.h>

#include "log/format.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::modes {

DeadlineExchange::DeadlineExchange(std::shared_ptr<Exchange> inner, Duration timeout, Logger& log,
                                   bool log_callid)
    : ForwardingExchange(std::move(inner)), log_(log), log_callid_(log_callid),
      started_ns_(uv_hrtime()) {
  if (timeout <= Duration::zero())
    return;
  timer_ = new uv_timer_t;
  uv_timer_init(loop(), timer_);
  timer_->data = this;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  uv_timer_start(
      timer_,
      [](uv_timer_t* t) {
        if (t->data)
          static_cast<DeadlineExchange*>(t->data)->on_deadline();
      },
      static_cast<std::uint64_t>(ms > 0 ? ms : 1), 0);
}

DeadlineExchange::~DeadlineExchange() {
  if (timer_) {
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
}

void DeadlineExchange::send_head(ResponseHead head) {
  if (!ended_)
    ForwardingExchange::send_head(std::move(head));
}

bool DeadlineExchange::send_body(std::string_view data) {
  return ended_ ? false : ForwardingExchange::send_body(data);
}

void DeadlineExchange::finish() {
  if (ended_)
    return;
  ForwardingExchange::finish();
  end();
}

void DeadlineExchange::abort() {
  if (ended_)
    return;
  ForwardingExchange::abort();
  end();
}

void DeadlineExchange::on_cancel(CancelReason reason) {
  end();
  ForwardingExchange::on_cancel(reason);
}

void DeadlineExchange::on_deadline() {
  if (ended_)
    return;
  // The handler may drop its reference when it is cancelled; we go on using ourselves below.
  std::shared_ptr<DeadlineExchange> self = shared_from_this();
  // Tell the handler first, while it may still stop its own work, then answer for it.
  ForwardingExchange::on_cancel(CancelReason::exec_timeout);
  Exchange& real = inner();
  if (real.head_sent()) {
    real.abort();
  } else {
    real.send_head({504, {{"X-OpenFaaS-Internal", "of-watchdog"}}, 0});
    real.finish();
  }
  log_.info(fmt::format("Handler killed due to exec_timeout after {:.4f}s: {} {}",
                        static_cast<double>(uv_hrtime() - started_ns_) / 1e9, request().method,
                        request().target));
  end();
}

void DeadlineExchange::end() {
  if (ended_)
    return;
  ended_ = true;
  if (timer_)
    uv_timer_stop(timer_);
  const Request& req = request();
  const std::string* agent = req.header("User-Agent");
  if (agent && agent->rfind("kube-probe", 0) == 0)
    return;
  const std::string* call_id = req.header("X-Call-Id");
  std::string code = std::to_string(status() != 0 ? status() : 200);
  log_.access({.method = req.method,
               .uri = req.target,
               .status = code,
               .bytes = static_cast<std::int64_t>(body_bytes_sent()),
               .seconds = static_cast<double>(uv_hrtime() - started_ns_) / 1e9,
               .call_id = call_id ? std::string_view(*call_id) : std::string_view(),
               .with_call_id = log_callid_});
}

} // namespace ofwatchdog::modes
