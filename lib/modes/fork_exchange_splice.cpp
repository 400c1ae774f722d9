// ForkExchange, streaming policy: the request and response bodies moved with splice(2) between
// the client socket and the function's pipes, so a big body never enters user space. See
// http/splice_responder.hpp for what the connection guarantees and http/body_splice.hpp for the
// transfer itself. Everything falls back to the ordinary path (on_body / on_output) when a
// precondition does not hold.

#include <fmt/format.h>

#include "modes/fork_exchange.hpp"
#include "util/env_switch.hpp"

namespace ofwatchdog::modes {

namespace {

// `OFWATCHDOG_NO_SPLICE=1` turns the splice paths off: a diagnostic switch, so the tests can
// show the difference and a kernel problem can be ruled out without a rebuild.
bool splice_disabled() {
  static const bool disabled = env_switch("OFWATCHDOG_NO_SPLICE", false);
  return disabled;
}

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

void ForkExchange::try_splice_body() {
  if (policy_ != OutputPolicy::stream || splice_disabled() || child_ == nullptr || completed_ ||
      stdin_done_)
    return;
  splice_responder_ = dynamic_cast<http::SpliceResponder*>(exchange_.get());
  if (splice_responder_ == nullptr)
    return;
  int stdin_fd = child_->pipe_fd(process::Stdio::in);
  if (stdin_fd < 0)
    return;
  std::optional<http::SpliceResponder::TakenBody> taken = splice_responder_->take_body();
  if (!taken)
    return;
  http::BodySplice::Options options;
  options.source = taken->socket;
  options.sink = stdin_fd;
  options.prefix.assign(taken->buffered);
  options.length = taken->remaining + taken->buffered.size();
  // A function that stops reading stdin still gets its answer sent; the body is read and
  // dropped meanwhile, as on the ordinary path (decision C7).
  options.drain_on_sink_error = true;
  body_splice_ = std::make_unique<http::BodySplice>(context_.loop);
  body_splice_active_ = true;
  int rc = body_splice_->start(std::move(options), [](std::uint64_t) {}, [this](int status) {
    Entry entry(this);
    on_body_splice_done(status);
  });
  if (rc != 0) {
    // The connection has handed the body over and cannot take it back: as a failed read.
    context_.log->info(fmt::format("Cannot splice the request body: {}", uv_strerror(rc)));
    on_body_splice_done(rc);
  }
}

void ForkExchange::on_body_splice_done(int status) {
  if (!body_splice_active_)
    return;
  body_splice_active_ = false;
  if (splice_responder_ != nullptr)
    splice_responder_->body_taken_end(status); // an error cancels the exchange next turn
  // Our duplicate of stdin is closed with the splice, and libuv's once its writes are done (it
  // has none): the function then sees the end of its input.
  close_splice(body_splice_);
  if (!stdin_done_ && child_ != nullptr) {
    stdin_done_ = true;
    child_->close_stdin();
  }
}

void ForkExchange::maybe_splice_output() {
  if (output_splice_off_ || output_splice_ || policy_ != OutputPolicy::stream ||
      splice_disabled() || !output_splice_enabled() || child_ == nullptr || !response_open_ ||
      stdout_done_)
    return;
  // Small answers stay on the ordinary path: setting a splice up costs a dozen system calls,
  // which only pays off for a large output.
  if (exchange_->body_bytes_sent() < kSpliceOutputAfter)
    return;
  if (splice_responder_ == nullptr)
    splice_responder_ = dynamic_cast<http::SpliceResponder*>(exchange_.get());
  int stdout_fd = child_->pipe_fd(process::Stdio::out);
  if (splice_responder_ == nullptr || stdout_fd < 0) {
    output_splice_off_ = true;
    return;
  }
  bool chunked = false;
  int socket = splice_responder_->begin_output_splice(chunked);
  if (socket < 0)
    return; // bytes still queued, or no streamed body: the ordinary path goes on
  child_->pause_output(process::Stdio::out);
  http::BodySplice::Options options;
  options.source = stdout_fd;
  options.sink = socket;
  options.chunked = chunked;
  output_splice_ = std::make_unique<http::BodySplice>(context_.loop);
  output_splice_active_ = true;
  int rc = output_splice_->start(
      std::move(options),
      [this](std::uint64_t bytes) {
        if (splice_responder_ != nullptr)
          splice_responder_->output_spliced(bytes);
      },
      [this](int status) {
        Entry entry(this);
        on_output_splice_done(status);
      });
  if (rc != 0) {
    output_splice_active_ = false;
    output_splice_off_ = true;
    splice_responder_->output_splice_end(0); // nothing was written
    close_splice(output_splice_);
    if (!stdout_paused_)
      child_->resume_output(process::Stdio::out);
  }
}

void ForkExchange::on_output_splice_done(int status) {
  if (!output_splice_active_)
    return;
  output_splice_active_ = false;
  bool sink_failed = output_splice_->sink_failed();
  if (status < 0 && !sink_failed) {
    // Reading the pipe failed: the body may be cut inside a chunk.
    context_.log->info(fmt::format("Error reading stdout: {}", uv_strerror(status)));
    status = UV_ECANCELED;
  }
  if (splice_responder_ != nullptr)
    splice_responder_->output_splice_end(status);
  close_splice(output_splice_);
  stdout_done_ = true;
  if (child_ != nullptr)
    child_->close_pipe(process::Stdio::out);
  maybe_complete();
}

void ForkExchange::abandon_output_splice() {
  if (!output_splice_active_)
    return;
  output_splice_active_ = false;
  if (splice_responder_ != nullptr)
    splice_responder_->output_splice_end(UV_ECANCELED);
  close_splice(output_splice_);
}

void ForkExchange::abandon_body_splice() {
  if (body_splice_active_) {
    body_splice_active_ = false;
    if (splice_responder_ != nullptr)
      splice_responder_->body_taken_end(UV_ECANCELED);
  }
  close_splice(body_splice_);
}

void ForkExchange::close_splice(std::unique_ptr<http::BodySplice>& splice) {
  if (!splice)
    return;
  ++closes_pending_;
  http::BodySplice* raw = splice.get();
  // Kept until this object goes: its close callback may come later than the exchange's end.
  closed_splices_.push_back(std::move(splice));
  raw->close([this] {
    Entry entry(this);
    --closes_pending_;
  });
}

} // namespace ofwatchdog::modes
