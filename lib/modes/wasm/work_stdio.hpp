#pragma once
// A guest's standard streams over its request's WorkContext (wasm-stdio-env, wasm-answer), on the
// worker thread: stdin is the request body, stdout the response body, stderr the log relay.
//
// stdout is held until the module ends or more than kHeldOutputBytes would be held. Ended
// first, the mode answers with a Content-Length (or a 500 on failure, the output dropped);
// past the limit, the write commits the response (200, chunked) and every later write goes to
// the client with backpressure, so a module can write more than memory holds. Once committed,
// a failure can only cut the 200 short (WorkContext::send_head), however soon it comes.
//
// With cgi_headers (docs/cgi-headers.md), stdout starts with a CGI head that is read, and
// never sent, before any of the above: the response's status and headers are the head's, and
// the body after it is held or streamed as usual. A bad head is answered at once with a 502,
// and the guest stopped, since nothing it writes afterwards can be used.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "log/line_splitter.hpp"
#include "modes/cgi_head.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "wasi/stdio.hpp"

namespace ofwatchdog::modes {

constexpr std::size_t kHeldOutputBytes = 64 * 1024;

class WorkStdio final : public wasi::Stdio {
public:
  // `max_line` is log_buffer_size, as for the other modes' relayed stderr.
  WorkStdio(WorkContext& work, std::string content_type, std::int64_t max_line);

  // cgi_headers=true: stdout starts with a CGI head. `stop_guest` interrupts the run, for a
  // head so bad that the 502 is sent before the guest ends.
  void read_cgi_head(std::function<void()> stop_guest);

  ReadResult read_stdin(std::span<std::uint8_t> buffer) override;
  bool stdin_ready() override { return work_.body_ready(); }
  Status write_stdout(std::span<const std::uint8_t> bytes) override;
  Status write_stderr(std::span<const std::uint8_t> bytes) override;
  WaitResult wait(bool want_stdin, Deadline deadline) override;

  // Where the response is: every output starts held, and passing the limit commits it, once.
  enum class Output {
    held,      // nothing told to the client: the run's end decides the answer
    committed, // a 200 (or the CGI head's status) was committed and the output streams
    refused,   // the CGI head was bad or unfinished: its 502 was sent whole, nothing else goes
  };

  // After the run: whether the response was committed, the output held otherwise, and the
  // end of stderr (its last line without a newline).
  bool committed() const { return output_ == Output::committed; }
  // Whether the response was already answered whole (a bad CGI head's 502): the run's end,
  // however it comes, adds nothing.
  bool answered() const { return output_ == Output::refused; }
  // After a successful run: when the guest's output ended inside its CGI head, answers the
  // 502 (and logs it) instead of the output, and returns true. A guest that wrote nothing at
  // all is not refused: it gets the usual empty 200.
  bool refuse_unfinished_head();
  // The status and headers of the answer: 200 and the content type, or the CGI head's.
  ResponseHead response_head() const;
  std::string& held() { return held_; }
  std::uint64_t stdout_bytes() const { return stdout_bytes_; }
  void finish_stderr() { stderr_lines_.finish(); }

private:
  // Sends the 502 of a bad CGI head and stops the guest.
  Status refuse_bad_head();

  WorkContext& work_;
  std::string content_type_;
  std::string held_;
  Output output_ = Output::held;
  std::uint64_t stdout_bytes_ = 0;
  LineSplitter stderr_lines_;
  // cgi_headers only: the head being read, and how to stop the guest when it is bad.
  std::optional<CgiHeadReader> cgi_;
  std::function<void()> stop_guest_;
};

} // namespace ofwatchdog::modes
