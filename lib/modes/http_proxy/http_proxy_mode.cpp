// The http mode: the function server's process and the proxy; see http_proxy_mode.hpp.
#include "modes/http_proxy/http_proxy_mode.hpp"

#include <csignal>
#include <vector>

#include <fmt/format.h>

#include "process/process_error.hpp"

namespace ofwatchdog::modes {

namespace {
std::string join_args(const std::vector<std::string>& argv) {
  std::string out;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (i > 1)
      out += ' ';
    out += argv[i];
  }
  return out;
}
} // namespace

HttpProxyMode::HttpProxyMode() : registry_(std::make_shared<JobRegistry>()) {}

HttpProxyMode::~HttpProxyMode() = default;

int HttpProxyMode::start(ModeContext& context) {
  // A write to an upstream that has gone must fail with EPIPE, not kill the watchdog.
  std::signal(SIGPIPE, SIG_IGN);
  ModeStrategy::start(context);
  const Config& config = *context_.config;

  std::optional<upstream::UpstreamUrl> url = upstream::parse_upstream_url(config.upstream_url);
  if (!url) {
    context_.log->info(
        fmt::format("For \"mode=http\" you must specify a valid URL for \"http_upstream_url\""));
    return 1;
  }
  pool_ = std::make_unique<upstream::UpstreamPool>(context_.loop, std::move(*url), kIdleTimeout,
                                                   kMaxIdle);

  const std::vector<std::string>& argv = config.fprocess_argv;
  context_.log->info(
      fmt::format("Forking: {}, arguments: [{}]", argv.empty() ? "" : argv[0], join_args(argv)));
  auto spawned = process::ChildProcess::spawn(
      context_.loop, {argv, config.environment},
      [this](const process::ExitStatus& status) { on_child_exit(status); });
  if (spawned.child == nullptr) {
    context_.log->info(fmt::format("Forked function has terminated: {}", spawned.error));
    return 1;
  }
  child_ = spawned.child;
  // The function server never gets input: its stdin stays open and empty, as in the original.
  stderr_relay_.emplace(*context_.log, "stderr", config.log_buffer_size,
                        [this] { maybe_stopped(); });
  stdout_relay_.emplace(*context_.log, "stdout", config.log_buffer_size,
                        [this] { maybe_stopped(); });
  stderr_relay_->attach(*child_, process::Stdio::err);
  context_.log->info("Started logging: stderr from function.");
  stdout_relay_->attach(*child_, process::Stdio::out);
  context_.log->info("Started logging: stdout from function.");
  return 0;
}

void HttpProxyMode::handle(std::shared_ptr<Exchange> exchange) {
  HttpProxyExchange::start(context_, *pool_, std::move(exchange), registry_);
}

void HttpProxyMode::on_child_exit(const process::ExitStatus& status) {
  exit_status_ = status;
  std::string text = process::exit_error_text(status);
  if (text.empty())
    text = "exit status 0";
  if (!stopping_) {
    // function-server-exit (docs/decisions.md): a proxy to a function server that is gone serves
    // nothing but errors.
    context_.fatal(1, fmt::format("Forked function has terminated: {}", text));
    return;
  }
  context_.log->info(fmt::format("Function server exited during shutdown: {}", text));
  maybe_stopped();
}

void HttpProxyMode::stop(std::function<void()> done) {
  if (stopping_)
    return;
  stopping_ = true;
  stop_done_ = std::move(done);
  if (pool_)
    pool_->shut_down();

  if (child_ != nullptr) {
    uv_timer_init(context_.loop, &grace_timer_);
    grace_timer_.data = this;
    grace_timer_open_ = true;
    if (!exit_status_)
      child_->kill_group(SIGTERM);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(kKillGrace).count();
    uv_timer_start(
        &grace_timer_,
        [](uv_timer_t* timer) { static_cast<HttpProxyMode*>(timer->data)->on_grace_expired(); },
        static_cast<std::uint64_t>(ms), 0);
  }

  registry_->stop_all([this] {
    exchanges_done_ = true;
    if (stop_all_returned_)
      maybe_stopped();
  });
  stop_all_returned_ = true;
  maybe_stopped();
}

void HttpProxyMode::on_grace_expired() {
  if (child_ == nullptr)
    return;
  if (!exit_status_) {
    context_.log->info("Function server did not exit after SIGTERM: sending SIGKILL");
    child_->kill_group(SIGKILL);
  } else {
    // It exited, but something it started still holds its output pipes open.
    child_->kill_group(SIGKILL);
    if (stdout_relay_ && !stdout_relay_->ended()) {
      child_->close_pipe(process::Stdio::out);
      stdout_relay_->abandon();
    }
    if (stderr_relay_ && !stderr_relay_->ended()) {
      child_->close_pipe(process::Stdio::err);
      stderr_relay_->abandon();
    }
    maybe_stopped();
  }
}

void HttpProxyMode::maybe_stopped() {
  if (!stopping_ || !exchanges_done_ || !stop_done_)
    return;
  if (child_ != nullptr) {
    bool pipes_done =
        (!stdout_relay_ || stdout_relay_->ended() || !child_->pipe_open(process::Stdio::out)) &&
        (!stderr_relay_ || stderr_relay_->ended() || !child_->pipe_open(process::Stdio::err));
    if (!exit_status_ || !pipes_done)
      return;
    process::ChildProcess* child = child_;
    child_ = nullptr;
    release_pending_ = true;
    child->release([this] {
      release_pending_ = false;
      maybe_stopped();
    });
    return;
  }
  if (release_pending_)
    return;
  if (grace_timer_open_) {
    grace_timer_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&grace_timer_), [](uv_handle_t* handle) {
      auto* self = static_cast<HttpProxyMode*>(handle->data);
      std::function<void()> done = std::move(self->stop_done_);
      self->stop_done_ = nullptr;
      if (done)
        done();
    });
    return;
  }
  std::function<void()> done = std::move(stop_done_);
  stop_done_ = nullptr;
  done();
}

} // namespace ofwatchdog::modes

namespace ofwatchdog {
std::unique_ptr<ModeStrategy> make_http_proxy_mode() {
  return std::make_unique<modes::HttpProxyMode>();
}
} // namespace ofwatchdog
