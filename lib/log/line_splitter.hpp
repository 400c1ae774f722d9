#pragma once
// Cuts a function's relayed output (stderr, or an http-mode child's stdout) into log lines.
//
// Lines end at `\n`, and a `\r` just before the `\n` is dropped, so CRLF output logs like LF
// output. Unlike the original's scanner, an over-long line never stops the relay (long-log-lines):
// it is emitted in pieces of at most `max_line` bytes and the caller is told once, so the pipe
// is always drained and the function never blocks on a full stderr. A final line without a
// newline is emitted by `finish` (final-partial-line; both rules in docs/decisions.md).
//
// `max_line` is `log_buffer_size`:
//   > 0  a line of up to `max_line` bytes (not counting `\r\n`) is one log line; longer lines
//        are split into pieces of `max_line` bytes (the last piece holds the rest).
//   < 0  no limit: a line is emitted whole, however long (memory grows with the line).
//   = 0  no line can fit, not even an empty one. The original then lost all output; we keep
//        that outcome but keep draining: every byte is read and discarded, and the overflow
//        callback fires once (at the first byte) so the loss is visible in the log.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ofwatchdog {

class LineSplitter {
public:
  // Receives one line (or one piece of an over-long line) without its terminator. The view is
  // valid only during the call.
  using LineCallback = std::function<void(std::string_view line)>;
  // Called the first time output does not fit in `max_line` (at most once per splitter).
  using OverflowCallback = std::function<void()>;

  LineSplitter(std::int64_t max_line, LineCallback on_line, OverflowCallback on_overflow = {});

  // Consumes a piece of the stream; emits every line it completes.
  void feed(std::string_view data);
  // The stream ended: emits the final partial line, if any. Later feeds start a new stream.
  void finish();

  // Bytes held back waiting for the end of their line; never more than `max_line` + 1 when
  // `max_line` > 0.
  std::size_t pending_bytes() const { return pending_.size(); }

private:
  void emit(std::string_view line);
  void emit_line_end(std::string_view line); // drops a trailing `\r`
  void split_pending();
  void overflowed();

  std::int64_t max_line_;
  LineCallback on_line_;
  OverflowCallback on_overflow_;
  bool overflow_reported_ = false;
  std::string pending_;
};

} // namespace ofwatchdog
