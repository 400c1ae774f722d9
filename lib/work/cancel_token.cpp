#include "work/cancel_token.hpp"

namespace ofwatchdog::work {

bool CancelToken::trip(CancelReason reason) {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    if (tripped_.load(std::memory_order_relaxed))
      return false;
    reason_ = reason;
    tripped_.store(true, std::memory_order_release);
    hooks.swap(hooks_);
  }
  // Outside the lock: a hook takes a channel's lock, and a worker holding that lock may be
  // asking `reason()` at the same moment.
  for (auto& hook : hooks)
    hook();
  return true;
}

std::optional<CancelReason> CancelToken::reason() const {
  std::lock_guard lock(mutex_);
  if (!tripped_.load(std::memory_order_relaxed))
    return std::nullopt;
  return reason_;
}

void CancelToken::on_trip(std::function<void()> hook) {
  {
    std::lock_guard lock(mutex_);
    if (!tripped_.load(std::memory_order_relaxed)) {
      hooks_.push_back(std::move(hook));
      return;
    }
  }
  hook();
}

} // namespace ofwatchdog::work
