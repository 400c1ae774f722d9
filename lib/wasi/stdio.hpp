#pragma once
// The guest's standard streams and its waits, as the caller of the host provides them.
//
// In the watchdog, stdin is the request body, stdout the response body and stderr the log
// relay; every call may block for backpressure and returns `interrupted` once the request is
// cancelled (a timeout, the client gone). The host passes spans of guest memory straight
// through and keeps no byte itself, so the streams are exactly as bounded as the caller makes
// them. All calls come from the thread running the guest.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ofwatchdog::wasi {

class Stdio {
public:
  enum class Status {
    ok,          // bytes moved (read: `size` of them)
    end,         // read only: the body is over
    interrupted, // the request was cancelled
  };
  struct ReadResult {
    Status status = Status::ok;
    std::size_t size = 0;
  };
  enum class WaitResult {
    stdin_ready, // read_stdin would not block now
    timed_out,   // the deadline passed
    interrupted, // the request was cancelled
  };
  using Deadline = std::chrono::steady_clock::time_point;

  virtual ~Stdio() = default;

  // Blocks until at least one byte (at most `buffer.size()`), the end, or cancellation.
  virtual ReadResult read_stdin(std::span<std::uint8_t> buffer) = 0;
  // Whether `read_stdin` would return without blocking (bytes buffered, the end, or cancelled).
  virtual bool stdin_ready() = 0;
  // Takes all of `bytes`, blocking while the consumer is behind: ok or interrupted.
  virtual Status write_stdout(std::span<const std::uint8_t> bytes) = 0;
  virtual Status write_stderr(std::span<const std::uint8_t> bytes) = 0;
  // Blocks until `deadline` (Deadline::max() for none), or, with `want_stdin`, until
  // `stdin_ready()`; cancellation ends the wait early. poll_oneoff's only way to sleep, so a
  // guest sleeping past the request's deadline is woken like one blocked on a stream.
  virtual WaitResult wait(bool want_stdin, Deadline deadline) = 0;
};

} // namespace ofwatchdog::wasi
