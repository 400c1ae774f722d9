#pragma once
// One request's exec deadline (`exec_timeout`, shortened by `X-Timeout`: exec_timeout.hpp) as
// a timer whose owner may go away at any time: the handle lives on the heap and frees itself in
// its close callback, so neither a running callback nor a pending close keeps its owner alive.

#include <cstdint>
#include <functional>

#include <uv.h>

#include "ofwatchdog/config.hpp"

namespace ofwatchdog::modes {

class ExecDeadline {
public:
  ExecDeadline() = default;
  ~ExecDeadline();
  ExecDeadline(const ExecDeadline&) = delete;
  ExecDeadline& operator=(const ExecDeadline&) = delete;

  // Calls `expired` once, on the loop, when `timeout` has passed; a timeout <= 0 never
  // expires. Starting again replaces the previous deadline.
  void start(uv_loop_t* loop, Duration timeout, std::function<void()> expired);
  // The deadline no longer applies (a stream past its headers, a request that ended).
  void stop();
  bool running() const { return running_; }

private:
  uv_timer_t* timer_ = nullptr;
  std::function<void()> expired_;
  bool running_ = false;
};

} // namespace ofwatchdog::modes
