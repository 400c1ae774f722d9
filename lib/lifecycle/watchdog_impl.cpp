// Start-up, routing and the graceful shutdown. The sequence and the log lines follow the
// original (docs/lifecycle.md) with this project's corrections (docs/decisions.md): the port is
// bound before the lock file is written (replacing a stale one), a lock file is removed only by
// its last live holder (lock_file.hpp), SIGINT drains like SIGTERM (a second SIGINT ends the
// process at once), a healthcheck_interval <= 0 means no wait, and bind or lock failures exit 1.
#include "lifecycle/watchdog_impl.hpp"

#include <csignal>
#include <cstdlib>
#include <pthread.h>

#include <fmt/format.h>

#include "lifecycle/probe_endpoints.hpp"
#include "log/format.hpp"
#include "metrics/metrics_endpoint.hpp"
#include "ofwatchdog/mode_registry.hpp"

namespace ofwatchdog {

namespace {

// The metrics server's own limits, as the original's (500 ms to read and to write).
constexpr auto kMetricsTimeout = std::chrono::milliseconds(500);
// Keep-alive connections are closed after this long idle when read_timeout does not say.
constexpr auto kDefaultIdleTimeout = std::chrono::seconds(60);
// How long a relayed or access line may wait to be written with the ones that follow it.
constexpr std::uint64_t kLogFlushDelayMs = 5;

template <typename T> WatchdogImpl* owner(T* handle) {
  return static_cast<WatchdogImpl*>(handle->data);
}

std::uint64_t millis(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms > 0 ? static_cast<std::uint64_t>(ms) : 0;
}

} // namespace

WatchdogImpl::WatchdogImpl(Config config, std::unique_ptr<ModeStrategy> mode,
                           const ModeRegistry* modes)
    : config_(std::move(config)), log_(config_.log_format, config_.prefix_logs),
      mode_(std::move(mode)), lock_(config_.lock_file_path()), limiter_(config_.max_inflight) {
  if (!mode_) {
    const ModeDescriptor* entry = modes != nullptr ? modes->find(config_.mode) : nullptr;
    if (entry == nullptr || !entry->create) {
      mode_error_ = fmt::format("mode={} is not available in this build", config_.mode);
    } else {
      ModeCreation made = entry->create(config_);
      if (auto* error = std::get_if<std::string>(&made))
        mode_error_ = *error;
      else
        mode_ = std::move(std::get<std::unique_ptr<ModeStrategy>>(made));
    }
  }
  uv_loop_init(&loop_);
  loop_.data = this;
  // The async handle exists from construction so that stop() works from any thread, even
  // before run() has started.
  uv_async_init(&loop_, &stop_async_,
                [](uv_async_t* h) { owner(h)->begin_shutdown("Context cancelled"); });
  stop_async_.data = this;
  uv_signal_init(&loop_, &sigterm_);
  sigterm_.data = this;
  uv_signal_init(&loop_, &sigint_);
  sigint_.data = this;
  uv_timer_init(&loop_, &shutdown_timer_);
  shutdown_timer_.data = this;
  // Relayed and access lines are written in batches: before the loop waits for events, held
  // lines arm a short timer, and the timer writes out everything held by then. Under load that
  // is one write for many requests instead of one per request (at one connection, a third of
  // the watchdog's writes were access lines); when idle a line is at most a few milliseconds
  // late. Neither handle keeps the loop alive; closing them flushes.
  log_.set_deferred(true);
  uv_timer_init(&loop_, &log_timer_);
  log_timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&log_timer_));
  uv_prepare_init(&loop_, &log_flush_);
  log_flush_.data = this;
  uv_prepare_start(&log_flush_, [](uv_prepare_t* h) {
    WatchdogImpl* self = owner(h);
    if (self->log_.holding() && !uv_is_active(reinterpret_cast<uv_handle_t*>(&self->log_timer_)))
      uv_timer_start(
          &self->log_timer_, [](uv_timer_t* t) { owner(t)->log_.flush(); }, kLogFlushDelayMs, 0);
  });
  uv_unref(reinterpret_cast<uv_handle_t*>(&log_flush_));

  context_.loop = &loop_;
  context_.config = &config_;
  context_.log = &log_;
  context_.fatal = [this](int code, std::string_view message) { fatal(code, message); };
}

WatchdogImpl::~WatchdogImpl() {
  if (!handles_closed_) {
    // run() was never called (or start-up failed before the loop ran): close and drain.
    server_.reset();
    metrics_server_.reset();
    close_own_handles();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop_);
}

void WatchdogImpl::stop() {
  stop_requested_ = true;
  uv_async_send(&stop_async_);
}

int WatchdogImpl::run() {
  // A client that goes away mid-write must give EPIPE, not kill the process. Children get
  // default signal dispositions back from libuv's spawn.
  std::signal(SIGPIPE, SIG_IGN);
  // A parent may have started us with these blocked (the mask survives exec); the graceful
  // shutdown depends on receiving them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &shutdown_signals, nullptr);
  int code = start();
  if (code != 0) {
    exit_code_ = code;
    phase_ = Phase::stopping;
    auto after_mode = [this] { finish_shutdown(); };
    if (server_)
      server_->close([this, after_mode] { mode_ ? mode_->stop(after_mode) : after_mode(); });
    else if (mode_)
      mode_->stop(after_mode);
    else
      after_mode();
  } else if (pending_shutdown_cause_) {
    begin_shutdown(pending_shutdown_cause_);
  } else if (stop_requested_) {
    begin_shutdown("Context cancelled");
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  return exit_code_;
}

int WatchdogImpl::start() {
  // Signals are watched from the very start so that one arriving during start-up is not lost
  // (nor kills the process): the shutdown begins as soon as serving does.
  uv_signal_start(
      &sigterm_, [](uv_signal_t* h, int) { owner(h)->begin_shutdown("SIGTERM"); }, SIGTERM);
  uv_signal_start(
      &sigint_, [](uv_signal_t* h, int) { owner(h)->on_sigint(); }, SIGINT);
  if (!mode_) {
    log_.info(mode_error_);
    return 1;
  }
  if (int code = mode_->start(context_); code != 0)
    return code;
  if (config_.jwt_auth.enabled) {
    auth_ = std::make_unique<lifecycle::FunctionAuth>(config_.jwt_auth, log_, metrics_, &loop_);
    if (std::string error = auth_->start(); !error.empty()) {
      log_.info(fmt::format("Function authentication cannot start: {}", error));
      return 1;
    }
  }

  log_.info(
      fmt::format("Watchdog mode: {}\tfprocess: {}", config_.mode, go_quote(config_.fprocess)));
  // The settings that change what a request meets, when set, so a log shows what was served.
  std::string also;
  auto note = [&also](std::string_view name, const auto& value) {
    also += fmt::format("{}{}={}", also.empty() ? "" : " ", name, value);
  };
  if (!config_.upstream_url.empty())
    note("upstream_url", config_.upstream_url);
  if (config_.max_inflight > 0)
    note("max_inflight", config_.max_inflight);
  if (!config_.ready_path.empty())
    note("ready_path", config_.ready_path);
  if (config_.max_body_size > 0)
    note("max_body_size", config_.max_body_size);
  if (!also.empty())
    log_.info(fmt::format("Settings: {}", also));

  http::ServerLimits metrics_limits{kMetricsTimeout, kMetricsTimeout, kMetricsTimeout};
  // Answering a scrape opens almost nothing: its spares would only be taken from the requests.
  metrics_limits.spare_descriptors = 2;
  metrics_server_ = std::make_unique<http::Server>(
      &loop_, metrics_limits,
      [this](std::shared_ptr<http::ServerExchange> ex) { serve_metrics_port(std::move(ex)); });
  if (int err = metrics_server_->listen(config_.metrics_port); err != 0) {
    log_.info(fmt::format("metrics error ListenAndServe: listen tcp :{}: {}", config_.metrics_port,
                          uv_strerror(err)));
    return 1;
  }
  log_.info(fmt::format("Metrics listening on port: {}", metrics_server_->port()));

  log_.info(fmt::format("Timeouts: read: {} write: {} hard: {} health: {}",
                        go_duration(config_.read_timeout), go_duration(config_.write_timeout),
                        go_duration(config_.exec_timeout),
                        go_duration(config_.healthcheck_interval)));
  if (auth_)
    log_.info("JWT Auth: true");

  http::ServerLimits limits;
  limits.read_timeout = config_.read_timeout;
  limits.write_timeout = config_.write_timeout;
  limits.idle_timeout =
      config_.read_timeout > Duration::zero() ? config_.read_timeout : kDefaultIdleTimeout;
  server_ = std::make_unique<http::Server>(
      &loop_, limits, [this](std::shared_ptr<http::ServerExchange> ex) { route(std::move(ex)); });
  server_->set_refusal_log([this](std::string_view line) { log_.info(line); });
  if (int err = server_->listen(config_.port); err != 0) {
    log_.info(
        fmt::format("Error ListenAndServe: listen tcp :{}: {}", config_.port, uv_strerror(err)));
    return 1;
  }
  log_.info(fmt::format("Listening on port: {}", server_->port()));

  if (config_.suppress_lock) {
    log_.info("Warning: \"suppress_lock\" is enabled. No automated health-checks will be in "
              "place for your function.");
  } else {
    log_.info(fmt::format("Writing lock-file to: {}", lock_.path()));
    if (std::string error = lock_.write(); !error.empty()) {
      log_.info(fmt::format("Cannot write {}. To disable lock-file set env suppress_lock=true. "
                            "Error: {}",
                            lock_.path(), error));
      return 1;
    }
  }
  accepting_ = true;
  phase_ = Phase::serving;

  return 0;
}

// --- routes ------------------------------------------------------------------------------

void WatchdogImpl::route(std::shared_ptr<http::ServerExchange> exchange) {
  const std::string& path = exchange->request().path;
  if (path == "/_/health") {
    serve_health(*exchange);
  } else if (path == "/_/ready") {
    serve_ready(std::move(exchange));
  } else {
    serve_function(std::move(exchange));
  }
}

bool WatchdogImpl::healthy() const {
  // With suppress_lock there is no file to look at: health follows the accepting flag alone
  // (the original answered 503 for ever in that case).
  return accepting_ && (config_.suppress_lock || lock_.exists());
}

void WatchdogImpl::serve_health(http::ServerExchange& exchange) {
  lifecycle::answer_health(exchange, healthy());
}

void WatchdogImpl::serve_metrics_port(std::shared_ptr<http::ServerExchange> exchange) {
  const std::string& path = exchange->request().path;
  if (path == "/metrics") {
    metrics::serve_metrics(exchange, metrics_, [this](std::string& text) {
      if (mode_)
        mode_->append_metrics(text);
    });
    return;
  }
  if (mode_ && mode_->handle_control(exchange))
    return;
  if (path == "/scale-reader" || path == "/scale-updater") {
    // What the fork answers outside wasm mode (where its updater also crashed).
    constexpr std::string_view kNoFunction = "function not exist";
    exchange->send_head({400, {{"Content-Type", "text/plain; charset=utf-8"}}, kNoFunction.size()});
    exchange->send_body(kNoFunction);
    exchange->finish();
    return;
  }
  metrics::answer_not_found(*exchange);
}

void WatchdogImpl::serve_ready(std::shared_ptr<http::ServerExchange> exchange) {
  if (!lifecycle::answer_ready_locally(*exchange, healthy(), limiter_.full(),
                                       !config_.ready_path.empty()))
    lifecycle::delegate_ready(std::move(exchange), config_.ready_path, *mode_);
}

void WatchdogImpl::serve_function(std::shared_ptr<http::ServerExchange> exchange) {
  metrics_.request_started();
  bool admitted = limiter_.try_acquire();
  std::uint64_t started_ns = uv_hrtime();
  exchange->on_done([this, admitted, started_ns](const Exchange& ex) {
    if (admitted)
      limiter_.release();
    double seconds = static_cast<double>(uv_hrtime() - started_ns) / 1e9;
    metrics_.request_finished(ex.request().method, ex.status() != 0 ? ex.status() : 200, seconds);
  });
  if (!admitted) {
    lifecycle::answer_limit_exceeded(*exchange, limiter_.limit());
    return;
  }
  if (auth_) {
    auth_->admit(std::move(exchange),
                 [this](std::shared_ptr<Exchange> ex) { mode_->handle(std::move(ex)); });
    return;
  }
  mode_->handle(std::move(exchange));
}

// --- shutdown ----------------------------------------------------------------------------

void WatchdogImpl::begin_shutdown(const char* cause) {
  if (phase_ == Phase::starting) {
    pending_shutdown_cause_ = cause;
    return;
  }
  // A second signal is ignored, as in the original: the sequence already under way ends it.
  if (phase_ != Phase::serving)
    return;
  phase_ = Phase::interval;
  accepting_ = false;
  Duration interval = std::max(config_.healthcheck_interval, Duration::zero());
  log_.info(fmt::format("{}: no new connections in {}", cause, go_duration(interval)));
  if (!config_.suppress_lock) {
    if (lock_.last_holder()) {
      log_.info(fmt::format("Removing lock-file : {}", lock_.path()));
    } else {
      log_.info(fmt::format("Leaving lock-file {}: another watchdog holds it, or it was "
                            "replaced or removed",
                            lock_.path()));
    }
    if (std::string error = lock_.release(); !error.empty())
      log_.info(fmt::format("Unable to mark server as unhealthy: {}", error));
  }
  // Kubernetes keeps routing traffic here until it has seen the failing health check, so the
  // server goes on serving normally for the interval.
  uv_timer_start(
      &shutdown_timer_, [](uv_timer_t* t) { owner(t)->begin_drain(); }, millis(interval), 0);
}

// Ctrl-C in a terminal: the first one drains as SIGTERM does, a second one, while that is
// under way, ends the process at once. SIGTERM keeps the drain whatever happens: it is what
// orchestrators send, and they wait for it.
void WatchdogImpl::on_sigint() {
  bool first =
      phase_ == Phase::serving || (phase_ == Phase::starting && pending_shutdown_cause_ == nullptr);
  if (first) {
    begin_shutdown("SIGINT");
    return;
  }
  log_.info("SIGINT again: exiting now, without waiting for the drain");
  if (!config_.suppress_lock)
    lock_.release();
  log_.flush();
  // Functions and the http-mode server end with this process (their death signal).
  std::_Exit(130);
}

void WatchdogImpl::begin_drain() {
  phase_ = Phase::draining;
  log_.info(fmt::format("No new connections allowed, draining: {} requests", metrics_.in_flight()));
  if (config_.write_timeout > Duration::zero()) {
    uv_timer_start(
        &shutdown_timer_, [](uv_timer_t* t) { owner(t)->drain_finished(true); },
        millis(config_.write_timeout), 0);
    server_->drain([this] { drain_finished(false); });
  } else {
    // A non-positive write_timeout leaves no time to drain, as Go's expired context does.
    drain_finished(true);
  }
}

void WatchdogImpl::drain_finished(bool timed_out) {
  if (phase_ != Phase::draining)
    return;
  phase_ = Phase::stopping;
  uv_timer_stop(&shutdown_timer_);
  if (timed_out)
    log_.info("Error in Shutdown: context deadline exceeded");
  server_->close([this] { mode_->stop([this] { finish_shutdown(); }); });
}

void WatchdogImpl::finish_shutdown() {
  if (phase_ == Phase::stopped)
    return;
  phase_ = Phase::stopped;
  if (exit_code_ == 0)
    log_.info(fmt::format("Exiting. Active connections: {}", metrics_.in_flight()));
  if (metrics_server_)
    metrics_server_->close([this] { close_own_handles(); });
  else
    close_own_handles();
}

void WatchdogImpl::fatal(int exit_code, std::string_view message) {
  log_.info(message);
  if (phase_ == Phase::stopping || phase_ == Phase::stopped)
    return;
  exit_code_ = exit_code;
  phase_ = Phase::stopping;
  accepting_ = false;
  uv_timer_stop(&shutdown_timer_);
  // A dead function must not look healthy to an exec probe.
  if (!config_.suppress_lock)
    lock_.release();
  auto after_server = [this] { mode_->stop([this] { finish_shutdown(); }); };
  if (server_)
    server_->close(after_server);
  else
    after_server();
}

void WatchdogImpl::close_own_handles() {
  if (handles_closed_)
    return;
  handles_closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&shutdown_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&log_flush_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&log_timer_), nullptr);
  log_.flush();
}

} // namespace ofwatchdog
