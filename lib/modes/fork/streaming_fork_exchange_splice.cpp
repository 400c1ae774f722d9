// StreamingForkExchange: the request and response bodies moved with splice(2) between
// the client socket and the function's pipes, so a big body never enters user space. The
// exchange does the moving (Exchange::splice_body_to and splice_from); this file decides when
// to ask. Everything stays on the ordinary path (on_body / on_output) when the exchange says no.

#include <fmt/format.h>

#include "modes/fork/splice_switch.hpp"
#include "modes/fork/streaming_fork_exchange.hpp"
#include "util/env_switch.hpp"

namespace ofwatchdog::modes {

namespace {

// Splicing the function's output into the socket is off unless `OFWATCHDOG_SPLICE_OUTPUT=1`.
// With a client on the same machine (loopback), the receiver's socket dropped segments of the
// spliced stream (TcpExtTCPRcvQDrop, RcvPruned) and the connection fell into retransmission
// back-off: about one 2 GiB transfer in six stalled until the write timeout. The ordinary path
// never did. The request-body splice (socket into stdin) showed no such problem and stays on.
bool output_splice_enabled() {
  static const bool enabled = env_switch("OFWATCHDOG_SPLICE_OUTPUT", false);
  return enabled;
}

// Output bytes sent the ordinary way before the rest is spliced.
constexpr std::uint64_t kSpliceOutputAfter = 64 * 1024;

} // namespace

void StreamingForkExchange::try_splice_body() {
  if (splice_disabled() || child_ == nullptr || completed() || stdin_done_)
    return;
  int stdin_fd = child_->pipe_fd(process::Stdio::in);
  if (stdin_fd < 0)
    return;
  // When it says no, the body comes through on_body as usual.
  exchange_->splice_body_to(stdin_fd, [this](int, std::uint64_t) { on_body_splice_done(); });
}

void StreamingForkExchange::on_body_splice_done() {
  // The exchange has closed its duplicate of stdin, and libuv closes ours once its writes are
  // done (it has none): the function then sees the end of its input.
  if (!stdin_done_ && child_ != nullptr) {
    stdin_done_ = true;
    child_->close_stdin();
  }
}

void StreamingForkExchange::maybe_splice_output() {
  if (output_splice_active_ || splice_disabled() || !output_splice_enabled() || child_ == nullptr ||
      !response_open() || stdout_done_)
    return;
  // Small answers stay on the ordinary path: setting a splice up costs a dozen system calls,
  // which only pays off for a large output.
  if (exchange_->body_bytes_sent() < kSpliceOutputAfter)
    return;
  int stdout_fd = child_->pipe_fd(process::Stdio::out);
  if (stdout_fd < 0)
    return;
  bool started = exchange_->splice_from(
      stdout_fd, [this](int status, std::uint64_t) { on_output_splice_done(status); });
  if (!started)
    return; // bytes still queued, or no streamed body: the ordinary path goes on
  // The exchange reads the pipe now; ours must not take bytes from it meanwhile.
  output_splice_active_ = true;
  child_->pause_output(process::Stdio::out);
}

void StreamingForkExchange::on_output_splice_done(int status) {
  output_splice_active_ = false;
  // Reading the pipe failed: the exchange can only cut the body short now, which the answer
  // (finish) does. A failure on the client's side never comes here: it cancels the exchange.
  if (status < 0)
    context_.log->info(fmt::format("Error reading stdout: {}", uv_strerror(status)));
  stdout_done_ = true;
  if (child_ != nullptr)
    child_->close_pipe(process::Stdio::out);
  maybe_complete();
}

} // namespace ofwatchdog::modes
