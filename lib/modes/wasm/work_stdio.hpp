#pragma once
// A guest's standard streams over its request's WorkContext (wasm-stdio-env, wasm-answer), on the
// worker thread: stdin is the request body, stdout the response body, stderr the log relay.
//
// stdout is held until the module ends or more than kHeldOutputBytes would be held. Ended
// first, the mode answers with a Content-Length (or a 500 on failure, the output dropped);
// past the limit, the write commits the response (200, chunked) and every later write goes to
// the client with backpressure, so a module can write more than memory holds. Once committed,
// a failure can only cut the 200 short (WorkContext::send_head), however soon it comes.

#include <cstdint>
#include <string>

#include "log/line_splitter.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "wasi/stdio.hpp"

namespace ofwatchdog::modes {

constexpr std::size_t kHeldOutputBytes = 64 * 1024;

class WorkStdio final : public wasi::Stdio {
public:
  // `max_line` is log_buffer_size, as for the other modes' relayed stderr.
  WorkStdio(WorkContext& work, std::string content_type, std::int64_t max_line);

  ReadResult read_stdin(std::span<std::uint8_t> buffer) override;
  bool stdin_ready() override { return work_.body_ready(); }
  Status write_stdout(std::span<const std::uint8_t> bytes) override;
  Status write_stderr(std::span<const std::uint8_t> bytes) override;
  WaitResult wait(bool want_stdin, Deadline deadline) override;

  // Where the response is: every output starts held, and passing the limit commits it, once.
  enum class Output {
    held,      // nothing told to the client: the run's end decides the answer
    committed, // a 200 was committed and the output streams
  };

  // After the run: whether the response was committed, the output held otherwise, and the
  // end of stderr (its last line without a newline).
  bool committed() const { return output_ == Output::committed; }
  std::string& held() { return held_; }
  std::uint64_t stdout_bytes() const { return stdout_bytes_; }
  void finish_stderr() { stderr_lines_.finish(); }

private:
  WorkContext& work_;
  std::string content_type_;
  std::string held_;
  Output output_ = Output::held;
  std::uint64_t stdout_bytes_ = 0;
  LineSplitter stderr_lines_;
};

} // namespace ofwatchdog::modes
