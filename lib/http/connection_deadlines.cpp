#include "http/connection_deadlines.hpp"

namespace ofwatchdog::http {

void ConnectionDeadlines::start(Kind kind, std::int64_t timeout_ns) {
  if (timeout_ns <= 0) {
    at(kind) = 0;
    return;
  }
  std::uint64_t ms = static_cast<std::uint64_t>((timeout_ns + 999999) / 1000000);
  at(kind) = uv_now(loop_) + (ms == 0 ? 1 : ms);
}

std::optional<ConnectionDeadlines::Kind> ConnectionDeadlines::passed() const {
  std::uint64_t now = uv_now(loop_);
  for (Kind kind : {Kind::linger, Kind::idle, Kind::write, Kind::read}) {
    std::uint64_t deadline = at_[static_cast<std::size_t>(kind)];
    if (deadline != 0 && now >= deadline) {
      return kind;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ConnectionDeadlines::arm_timer() {
  std::uint64_t next = 0;
  for (std::uint64_t deadline : at_) {
    if (deadline != 0 && (next == 0 || deadline < next)) {
      next = deadline;
    }
  }
  // A timer armed for the same or an earlier moment is left alone: when it fires, the
  // connection checks what is really due and arms it again. Deadlines move later with every
  // request on a busy keep-alive connection, and moving the timer each time cost a timer-heap
  // update per call for a timer that then never fires. (With no deadline left, an armed timer
  // also stays; it fires once for nothing.)
  if (next == 0 || (timer_at_ != 0 && timer_at_ <= next)) {
    return std::nullopt;
  }
  timer_at_ = next;
  std::uint64_t now = uv_now(loop_);
  return next > now ? next - now : 0;
}

} // namespace ofwatchdog::http
