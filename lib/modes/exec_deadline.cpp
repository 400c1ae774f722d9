#include "modes/exec_deadline.hpp"

#include <chrono>

namespace ofwatchdog::modes {

ExecDeadline::~ExecDeadline() {
  if (timer_ != nullptr) {
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
  }
}

void ExecDeadline::start(uv_loop_t* loop, Duration timeout, std::function<void()> expired) {
  stop();
  if (timeout <= Duration::zero())
    return;
  if (timer_ == nullptr) {
    timer_ = new uv_timer_t;
    uv_timer_init(loop, timer_);
  }
  timer_->data = this;
  expired_ = std::move(expired);
  running_ = true;
  // Rounded up, so a deadline never fires early.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
  uv_timer_start(
      timer_,
      [](uv_timer_t* timer) {
        auto* self = static_cast<ExecDeadline*>(timer->data);
        if (self == nullptr || !self->running_)
          return;
        self->running_ = false;
        // The callback may destroy this object: nothing of it is used after the call.
        std::function<void()> expired = std::move(self->expired_);
        expired();
      },
      static_cast<std::uint64_t>(ms > 0 ? ms : 1), 0);
}

void ExecDeadline::stop() {
  running_ = false;
  if (timer_ != nullptr)
    uv_timer_stop(timer_);
}

} // namespace ofwatchdog::modes
