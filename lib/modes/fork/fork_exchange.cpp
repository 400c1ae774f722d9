// One forking-mode request, the part both kinds share; see fork_exchange.hpp for the flows.
#include "modes/fork/fork_exchange.hpp"

#include <utility>

#include <fmt/format.h>

#include "log/format.hpp"
#include "modes/fork/collecting_fork_exchange.hpp"
#include "modes/fork/streaming_fork_exchange.hpp"
#include "process/cgi_env.hpp"
#include "process/exec_limits.hpp"

namespace ofwatchdog::modes {

void ForkExchange::start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                         std::shared_ptr<JobRegistry> registry, OutputPolicy policy) {
  // The registry owns the job from here on; it finishes itself (see release).
  ForkExchange* job = nullptr;
  if (policy == OutputPolicy::stream)
    job = new StreamingForkExchange(context, std::move(exchange), std::move(registry));
  else
    job = new CollectingForkExchange(context, std::move(exchange), std::move(registry));
  job->run();
}

ForkExchange::ForkExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                           std::shared_ptr<JobRegistry> registry)
    : RequestJob(context, std::move(exchange), std::move(registry)) {
  if (context_.config->cgi_headers)
    cgi_.emplace();
}

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
  begin();
}

bool ForkExchange::spawn_function() {
  const Config& config = *context_.config;
  context_.log->info("Started logging: stderr from function.");
  process::SpawnOptions options{config.fprocess_argv, std::move(environment_)};
  auto spawned = process::ChildProcess::spawn(
      context_.loop, options, [this](const process::ExitStatus& status) { on_exit(status); });
  if (spawned.child == nullptr) {
    if (spawned.out_of_descriptors()) {
      // The watchdog accepted the client but has no descriptors left for the function's pipes.
      // That passes as other requests end, so the client is told to come back (as a 503 with
      // Retry-After) rather than that its function failed; the text stays the usual one.
      refusal_ = Refusal{503, std::move(spawned.error), {{"Retry-After", "1"}}};
    } else {
      spawn_error_ = std::move(spawned.error);
    }
    complete();
    return false;
  }
  child_ = spawned.child;
  child_->set_stdin_callback([this](int status) { on_stdin_written(status); });
  relay_.emplace(*context_.log, "stderr", config.log_buffer_size, [this] {
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
  on_timeout();
}

void ForkExchange::on_timeout() {
  kill_and_abandon(fmt::format("exec timeout of {} expired", go_duration(deadline())),
                   Stop::timed_out);
}

void ForkExchange::shut_down() {
  kill_and_abandon("the watchdog is shutting down");
}

void ForkExchange::on_cancel(CancelReason reason) {
  // The exchange is over; nothing may be sent on it any more.
  close_answer();
  kill_and_abandon(fmt::format("the request ended early ({})", cancel_reason_text(reason)));
}

void ForkExchange::on_exit(const process::ExitStatus& status) {
  exit_status_ = status;
  exited_ns_ = uv_hrtime();
  maybe_complete();
}

void ForkExchange::on_stdin_written(int status) {
  if (status < 0) {
    // EPIPE: the function closed stdin or exited without reading it all. That is allowed
    // (docs/decisions.md, unread-stdin); its output is still the answer.
    stop_feeding_stdin();
    return;
  }
  on_stdin_room();
}

void ForkExchange::stop_feeding_stdin() {
  stdin_done_ = true;
  if (child_ != nullptr)
    child_->close_pipe(process::Stdio::in);
  on_stdin_gone();
}

void ForkExchange::on_output(std::string_view data) {
  if (!response_open())
    return;
  data = past_cgi_head(data);
  if (!data.empty() && response_open())
    take_output(data);
}

void ForkExchange::on_output_end(int status) {
  if (status < 0)
    context_.log->info(fmt::format("Error reading stdout: {}", uv_strerror(status)));
  stdout_done_ = true;
  maybe_complete();
}

void ForkExchange::release() {
  stop_deadline();
  if (child_ != nullptr) {
    expect_callback();
    child_->release([this] { callback_done(); });
    child_ = nullptr;
  }
  if (!answer_in_flight())
    exchange_.reset(); // otherwise once the answer is sent
  finish_job();
}

} // namespace ofwatchdog::modes
