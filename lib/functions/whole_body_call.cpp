// WholeBodyCall: see whole_body_call.hpp.
#include "functions/whole_body_call.hpp"

#include <fmt/format.h>

namespace ofwatchdog::functions {

WholeBodyCall::WholeBodyCall(std::shared_ptr<modes::DeadlineExchange> exchange,
                             const Function& function, WorkerPool& pool, CallSetup setup,
                             Logger& log, Refuse refuse, Ended ended)
    : exchange_(std::move(exchange)), function_(function), pool_(pool), setup_(setup), log_(log),
      refuse_(std::move(refuse)), ended_(std::move(ended)) {
  const Request& request = exchange_->request();
  if (const std::string* id = request.header("X-Call-Id"))
    call_id_ = *id;
  if (request.content_length)
    body_.reserve(static_cast<std::size_t>(*request.content_length));
}

void WholeBodyCall::start() {
  // The limit on a body that streams in; a declared length over it never got here.
  exchange_->set_body_limit(setup_.max_body_size);
  exchange_->set_handler(this);
}

std::optional<Duration> WholeBodyCall::time_left() const {
  if (!setup_.deadline)
    return std::nullopt;
  auto left = *setup_.deadline - std::chrono::steady_clock::now();
  return std::max(Duration::zero(), std::chrono::duration_cast<Duration>(left));
}

std::optional<CancelReason> WholeBodyCall::stop_reason() const {
  int reason = stop_reason_.load(std::memory_order_acquire);
  if (reason < 0)
    return std::nullopt;
  return static_cast<CancelReason>(reason);
}

void WholeBodyCall::on_body_end() {
  // The handler stays set: a client that leaves while the function runs stops it.
  request_ = whole_request(exchange_->request(), std::move(body_));
  phase_ = Phase::running;
  std::shared_ptr<WholeBodyCall> self = shared_from_this();
  task_ = pool_.run(
      [self] {
        if (!self->stop_.stop_requested())
          self->outcome_ = call_function(self->function_, self->request_, *self);
      },
      [self] { self->answer(); });
  if (task_ == 0) {
    // The queue filled while this body was read (the pool stops only after the drain, which
    // ends every call still reading): the same 429 as a request refused on arrival.
    refuse_(*exchange_);
    end();
  }
}

void WholeBodyCall::on_cancel(CancelReason reason) {
  // The exchange has let go of us: the client is gone, or it has its 504 or 413 already.
  stop(reason);
  if (phase_ == Phase::reading)
    end();
}

void WholeBodyCall::shut_down() {
  stop(CancelReason::shutdown);
  if (phase_ == Phase::reading) {
    exchange_->set_handler(nullptr);
    exchange_->abort();
    end();
  }
}

void WholeBodyCall::stop(CancelReason reason) {
  int none = -1;
  stop_reason_.compare_exchange_strong(none, static_cast<int>(reason), std::memory_order_release);
  stop_.request_stop();
  // Still waiting for a thread: it leaves the queue now, so it holds no place there.
  if (phase_ == Phase::running && task_ != 0)
    pool_.withdraw(task_);
}

void WholeBodyCall::answer() {
  for (const std::string& line : lines_)
    log_.info(line);
  if (exchange_->done()) {
    // The client is gone, or has its 504 or 413: the answer is dropped.
  } else if (stop_.stop_requested()) {
    exchange_->abort(); // the watchdog is stopping
  } else {
    if (outcome_.response) {
      FunctionResponse& response = *outcome_.response;
      send_whole_response(*exchange_, response.status, std::move(response.headers), response.body);
    } else {
      log_.info(fmt::format("Function failed: {}", outcome_.failure));
      send_whole_response(*exchange_, 500, {{"Content-Type", "text/plain; charset=utf-8"}},
                          kFailureText);
    }
  }
  end();
}

void WholeBodyCall::end() {
  if (phase_ == Phase::over)
    return;
  phase_ = Phase::over;
  std::shared_ptr<WholeBodyCall> self = shared_from_this(); // until this call returns
  exchange_->set_handler(nullptr);
  exchange_.reset();
  ended_(*this);
}

} // namespace ofwatchdog::functions
