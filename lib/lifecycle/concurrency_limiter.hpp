#pragma once
// The `max_inflight` limiter of the function route, with the original's arithmetic: a request
// is admitted while `started - completed <= limit`, and `/_/ready` reports "full" once
// `started - completed >= limit`. Release is tied to the exchange's end, so a slot can never
// leak (unlike the original, where a panicking handler kept its slot).

#include <cstdint>

namespace ofwatchdog::lifecycle {

class ConcurrencyLimiter {
public:
  explicit ConcurrencyLimiter(int limit) : limit_(limit) {}

  bool enabled() const { return limit_ > 0; }
  int limit() const { return limit_; }

  // Counts a request in; returns false (and counts it out again) when over the limit.
  bool try_acquire() {
    ++started_;
    if (enabled() && started_ - completed_ > static_cast<std::uint64_t>(limit_)) {
      ++completed_;
      return false;
    }
    return true;
  }
  void release() { ++completed_; }

  bool full() const {
    return enabled() && started_ - completed_ >= static_cast<std::uint64_t>(limit_);
  }
  std::uint64_t in_flight() const { return started_ - completed_; }

private:
  int limit_;
  std::uint64_t started_ = 0;
  std::uint64_t completed_ = 0;
};

} // namespace ofwatchdog::lifecycle
