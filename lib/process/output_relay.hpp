#pragma once
// Relays one of a function's output streams to the log, line by line (docs/streaming.md).
//
// The relay is an OutputSink: attach it to a ChildProcess pipe and it logs every line through
// `Logger::relay`, honouring `prefix_logs` (the Logger's job) and `log_buffer_size` (through a
// LineSplitter). It never stops reading, so a function can never block on a full stderr pipe
// (long-log-lines), and it logs the final partial line when the stream ends (final-partial-line).
// When the stream ends it tells its owner, who may be waiting for it before it reaps the request
// (relay-to-eof: no output may be lost; the rules are in docs/decisions.md).

#include <cstdint>
#include <functional>
#include <string>

#include "log/line_splitter.hpp"
#include "ofwatchdog/log.hpp"
#include "process/child_process.hpp"

namespace ofwatchdog::process {

class OutputRelay : public OutputSink {
public:
  // `stream` is "stderr" or "stdout"; it picks the log destination and names the stream in
  // messages. `on_end` runs once when the stream reaches EOF or fails.
  OutputRelay(Logger& log, std::string stream, std::int64_t max_line, std::function<void()> on_end);

  // Starts relaying `which` of `child`.
  void attach(ChildProcess& child, Stdio which);

  // The owner closed the pipe before its end (e.g. the function was killed): logs the pending
  // partial line. `on_end` is not called.
  void abandon();

  bool ended() const { return ended_; }

  void on_output(std::string_view data) override;
  void on_output_end(int status) override;

private:
  void warn_overflow();

  Logger& log_;
  std::string stream_;
  std::int64_t max_line_;
  std::function<void()> on_end_;
  LineSplitter splitter_;
  bool ended_ = false;
};

} // namespace ofwatchdog::process
