#pragma once
// A connection's deadlines (read, write, idle, linger) and the bookkeeping of the one timer that
// serves all of them. Each is an absolute uv_now() time in milliseconds, or unset. The timer
// handle itself stays with the connection, which owns its handles; this class only says when it
// must fire and which deadline has passed when it does.

#include <array>
#include <cstdint>
#include <optional>

#include <uv.h>

namespace ofwatchdog::http {

class ConnectionDeadlines {
public:
  enum class Kind : std::uint8_t {
    read,   // the request (head and body) must have arrived
    write,  // the response must have been written
    idle,   // a keep-alive connection waits this long for its next request
    linger, // the half-closed connection is read and dropped until then
  };

  explicit ConnectionDeadlines(uv_loop_t* loop) : loop_(loop) {}

  // Sets `kind` to `timeout_ns` from now, rounded up to a whole millisecond (at least one); a
  // timeout of zero or less leaves it unset (no deadline).
  void start(Kind kind, std::int64_t timeout_ns);
  void start_ms(Kind kind, std::uint64_t ms) { at(kind) = uv_now(loop_) + ms; }
  void clear(Kind kind) { at(kind) = 0; }
  // Read, write and idle, the deadlines of HTTP messages (a tunnel and a lingering close have
  // none of them).
  void clear_http() { clear(Kind::read), clear(Kind::write), clear(Kind::idle); }
  bool is_set(Kind kind) const { return at_[static_cast<std::size_t>(kind)] != 0; }

  // The deadline that has passed and matters most (linger, idle, write, then read); none when
  // none has passed.
  std::optional<Kind> passed() const;
  // The delay to arm the timer with for the earliest deadline, when it must be armed; none when
  // it is already armed for that moment or an earlier one, or when no deadline is set.
  std::optional<std::uint64_t> arm_timer();
  // The timer fired (it is no longer armed).
  void timer_fired() { timer_at_ = 0; }

private:
  std::uint64_t& at(Kind kind) { return at_[static_cast<std::size_t>(kind)]; }

  uv_loop_t* loop_;
  std::array<std::uint64_t, 4> at_{}; // indexed by Kind; 0 when unset
  std::uint64_t timer_at_ = 0;        // when the armed timer fires; 0 when it is not armed
};

} // namespace ofwatchdog::http
