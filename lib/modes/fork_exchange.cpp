// One forking-mode request; see fork_exchange.hpp for the flows and the answers.
#include "modes/fork_exchange.hpp"

#include <utility>

#include <fmt/format.h>

#include "log/format.hpp"
#include "modes/body_limit.hpp"
#include "modes/exec_timeout.hpp"
#include "process/cgi_env.hpp"
#include "process/exec_limits.hpp"

namespace ofwatchdog::modes {

namespace {

// Bounds on body bytes waiting in the stdin pipe: above the high mark the request body is
// paused, below the low mark it resumes. The exchange may still deliver one socket read (64 KiB)
// after a pause, so the queue stays under about twice the high mark.
constexpr std::size_t kStdinHighWater = 64 * 1024;
constexpr std::size_t kStdinLowWater = 16 * 1024;

// Collect policy: the most of the held body offered to the stdin pipe in one write.
constexpr std::size_t kStdinPiece = 256 * 1024;

} // namespace

void ForkExchange::start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                         std::shared_ptr<JobRegistry> registry, OutputPolicy policy) {
  auto* self = new ForkExchange(context, std::move(exchange), std::move(registry), policy);
  Entry entry(self);
  self->run();
}

ForkExchange::ForkExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                           std::shared_ptr<JobRegistry> registry, OutputPolicy policy)
    : RequestJob(context, std::move(exchange), std::move(registry)), policy_(policy) {}

ForkExchange::~ForkExchange() = default;

void ForkExchange::run() {
  const Config& config = *context_.config;
  const Request& request = exchange_->request();

  // A body declared larger than max_body_size is refused before anything starts, and before
  // the handler is set, so a client waiting for `100 Continue` gets the 413 instead.
  if (refuse_declared_body_over_limit())
    return;
  // Headers the server accepted (up to 1 MiB) may still not fit into execve: that is the
  // client's doing, so it gets a 4xx that says why rather than a failed spawn.
  environment_ = process::build_cgi_environment(config.environment, request);
  if (auto fault = process::exec_limit_fault(config.fprocess_argv, environment_,
                                             process::exec_block_limit())) {
    on_refused(431, fmt::format("Request Header Fields Too Large: {}", *fault));
    return;
  }

  // The clock runs from handler entry, not from the start of the process.
  start_deadline();

  if (policy_ == OutputPolicy::collect) {
    // The whole body is read first; the function starts at its end, in on_body_end (at once,
    // inside set_handler, for a request without a body).
    exchange_->set_handler(this);
    return;
  }
  if (spawn_function()) {
    exchange_->set_handler(this); // starts the body (and `100 Continue`)
    try_splice_body();
  }
}

bool ForkExchange::spawn_function() {
  const Config& config = *context_.config;
  context_.log->info("Started logging: stderr from function.");
  process::SpawnOptions options{config.fprocess_argv, std::move(environment_)};
  auto spawned = process::ChildProcess::spawn(context_.loop, options,
                                              [this](const process::ExitStatus& status) {
                                                Entry entry(this);
                                                on_exit(status);
                                              });
  if (spawned.child == nullptr) {
    spawn_error_ = std::move(spawned.error);
    complete();
    return false;
  }
  child_ = spawned.child;
  child_->set_stdin_callback([this](int status) {
    Entry entry(this);
    on_stdin_written(status);
  });
  relay_.emplace(*context_.log, "stderr", config.log_buffer_size, [this] {
    Entry entry(this);
    stderr_done_ = true;
    maybe_complete();
  });
  relay_->attach(*child_, process::Stdio::err);
  child_->read_output(process::Stdio::out, this);
  return true;
}

void ForkExchange::on_refused(int status, const std::string& text) {
  refusal_ = Refusal{status, text};
  complete();
}

void ForkExchange::on_deadline() {
  Entry entry(this);
  on_timeout();
}

void ForkExchange::on_timeout() {
  timed_out_ = true;
  kill_and_abandon(fmt::format("exec timeout of {} expired", go_duration(deadline())));
}

void ForkExchange::shut_down() {
  Entry entry(this);
  kill_and_abandon("the watchdog is shutting down");
}

void ForkExchange::on_cancel(CancelReason reason) {
  Entry entry(this);
  // The exchange is over; nothing may be sent on it any more.
  response_open_ = false;
  if (output_body_) {
    output_body_->stop(); // its callback ends the transfer
    return;
  }
  kill_and_abandon(fmt::format("the request ended early ({})", cancel_reason_text(reason)));
}

void ForkExchange::on_exit(const process::ExitStatus& status) {
  exit_status_ = status;
  exited_ns_ = uv_hrtime();
  maybe_complete();
}

// --- stdin: the request body --------------------------------------------------------------

void ForkExchange::on_body(std::string_view data) {
  Entry entry(this);
  if (policy_ == OutputPolicy::collect) {
    // The function has not started yet: keep the body, in mapped blocks, so each block goes
    // back to the system as soon as it is queued for stdin. A chunked body (the only kind whose
    // size is not known in advance) is refused as soon as it passes max_body_size, so memory
    // stays bounded by the limit.
    if (completed_ || child_ != nullptr || data.empty())
      return;
    body_bytes_ += data.size();
    if (body_over_limit(body_bytes_)) {
      body_.clear();
      on_refused(413, body_too_large_text());
      return;
    }
    body_.append(data);
    return;
  }
  if (stdin_done_ || child_ == nullptr)
    return; // the function no longer reads stdin: the rest of the body is dropped
  if (child_->write_stdin(data) != 0) {
    stop_feeding_stdin();
    return;
  }
  if (!body_paused_ && child_->stdin_queued_bytes() > kStdinHighWater) {
    body_paused_ = true;
    exchange_->pause_body();
  }
}

void ForkExchange::on_body_end() {
  Entry entry(this);
  if (policy_ == OutputPolicy::collect) {
    if (completed_ || child_ != nullptr)
      return;
    if (spawn_function())
      feed_stdin();
    return;
  }
  if (stdin_done_ || child_ == nullptr)
    return;
  stdin_done_ = true;
  child_->close_stdin(); // after the queued writes, so the function reads all, then EOF
}

void ForkExchange::on_stdin_written(int status) {
  if (status < 0) {
    // EPIPE: the function closed stdin or exited without reading it all. That is allowed
    // (decision C7); its output is still the answer.
    stop_feeding_stdin();
    return;
  }
  if (policy_ == OutputPolicy::collect) {
    feed_stdin();
    return;
  }
  if (body_paused_ && child_ != nullptr && child_->stdin_queued_bytes() <= kStdinLowWater) {
    body_paused_ = false;
    if (response_open_)
      exchange_->resume_body();
  }
}

void ForkExchange::feed_stdin() {
  // The pipe queue is kept short so that the body is not held twice in memory.
  while (!stdin_done_ && child_ != nullptr && !body_.empty() &&
         child_->stdin_queued_bytes() < kStdinHighWater) {
    // Pieces of a block: most go straight into the pipe, and only what does not fit is copied
    // into the pipe's write queue, which is then over the mark and stops the loop.
    std::string_view piece = body_.front().substr(0, kStdinPiece);
    int rc = child_->write_stdin(piece);
    body_.consume(piece.size());
    if (rc != 0) {
      stop_feeding_stdin();
      return;
    }
  }
  if (!stdin_done_ && child_ != nullptr && body_.empty()) {
    stdin_done_ = true;
    child_->close_stdin(); // after the queued writes, so the function reads all, then EOF
  }
}

void ForkExchange::stop_feeding_stdin() {
  stdin_done_ = true;
  body_.clear();
  if (child_ != nullptr)
    child_->close_pipe(process::Stdio::in);
  // Keep reading the body (and dropping it) so the client is not stuck sending it.
  if (body_paused_) {
    body_paused_ = false;
    if (response_open_)
      exchange_->resume_body();
  }
}

// --- stdout: the response body ------------------------------------------------------------

void ForkExchange::on_output(std::string_view data) {
  Entry entry(this);
  if (!response_open_)
    return;
  if (policy_ == OutputPolicy::collect) {
    output_.append(data);
    return;
  }
  // Decision C1: the 200 is committed by the first byte of output, not before.
  if (!exchange_->head_sent()) {
    exchange_->send_head(
        ResponseHead{200, {{"Content-Type", context_.config->content_type}}, std::nullopt});
  }
  // Decision C2: every read goes out at once, so a line reaches the client while the
  // function is still running.
  bool more = exchange_->send_body(data);
  if (!more && response_open_ && child_ != nullptr && !stdout_paused_) {
    stdout_paused_ = true;
    child_->pause_output(process::Stdio::out);
  }
  maybe_splice_output();
}

void ForkExchange::on_output_end(int status) {
  Entry entry(this);
  if (status < 0)
    context_.log->info(fmt::format("Error reading stdout: {}", uv_strerror(status)));
  stdout_done_ = true;
  maybe_complete();
}

void ForkExchange::on_writable() {
  Entry entry(this);
  if (output_body_) {
    output_body_->on_writable();
    return;
  }
  if (stdout_paused_ && child_ != nullptr && !output_splice_active_) {
    stdout_paused_ = false;
    child_->resume_output(process::Stdio::out);
  }
}

void ForkExchange::release() {
  stop_deadline();
  if (child_ != nullptr) {
    ++closes_pending_;
    child_->release([this] {
      Entry entry(this);
      --closes_pending_;
    });
    child_ = nullptr;
  }
  if (!output_body_)
    exchange_.reset(); // otherwise once the output file is sent
}

void ForkExchange::destroy_if_finished() {
  if (completed_ && closes_pending_ == 0 && depth_ == 0)
    delete this;
}

} // namespace ofwatchdog::modes
