#pragma once
// One request's cancellation: tripped once, from any thread, with a reason.
//
// The loop trips it (the client went away, a timeout, shutdown); the worker polls `cancelled`
// or is woken by the hooks: the request's channels register one that fails their blocked
// calls, and an engine running guest code can register one that interrupts it.

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::work {

class CancelToken {
public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Trips the token; returns false if it was already tripped (the first reason stays). The
  // hooks run here, on the tripping thread, in the order they were added, after `cancelled`
  // has become true and with no lock held.
  bool trip(CancelReason reason);

  bool cancelled() const { return tripped_.load(std::memory_order_acquire); }
  std::optional<CancelReason> reason() const;

  // Runs `hook` when the token trips, or at once on this thread if it already has. Hooks must
  // be quick and thread-safe; they are kept until the token is destroyed.
  void on_trip(std::function<void()> hook);

private:
  std::atomic<bool> tripped_{false};
  mutable std::mutex mutex_;
  CancelReason reason_ = CancelReason::shutdown; // guarded by mutex_, set once
  std::vector<std::function<void()>> hooks_;     // guarded by mutex_, until tripped
};

} // namespace ofwatchdog::work
