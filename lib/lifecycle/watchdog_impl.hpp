#pragma once
// The Watchdog's state: the loop, both listeners, the mode, the routes of the main port and the
// start-up and shutdown sequences (see docs/lifecycle.md).

#include <atomic>
#include <memory>
#include <optional>

#include <uv.h>

#include "http/server.hpp"
#include "lifecycle/concurrency_limiter.hpp"
#include "lifecycle/function_auth.hpp"
#include "lifecycle/lock_file.hpp"
#include "metrics/function_metrics.hpp"
#include "ofwatchdog/config.hpp"
#include "ofwatchdog/log.hpp"
#include "ofwatchdog/mode_registry.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog {

class WatchdogImpl {
public:
  // With no `mode`, the strategy is made from the entry of `modes` named by `config.mode`.
  WatchdogImpl(Config config, std::unique_ptr<ModeStrategy> mode, const ModeRegistry* modes);
  ~WatchdogImpl();

  int run();
  void stop(); // any thread

private:
  enum class Phase { starting, serving, interval, draining, stopping, stopped };

  int start();
  void route(std::shared_ptr<http::ServerExchange> exchange);
  void serve_function(std::shared_ptr<http::ServerExchange> exchange);
  void serve_health(http::ServerExchange& exchange);
  void serve_ready(std::shared_ptr<http::ServerExchange> exchange);
  // The metrics port: /metrics, then what the mode serves there, then the fork's replica paths
  // outside the mode that has them (wasm-replica-endpoints), then 404.
  void serve_metrics_port(std::shared_ptr<http::ServerExchange> exchange);
  bool healthy() const;

  // Shutdown, in order: begin_shutdown (signal) -> after healthcheck_interval begin_drain ->
  // drain done or write_timeout -> finish_shutdown (mode stopped, handles closed).
  void begin_shutdown(const char* cause);
  void on_sigint();
  void begin_drain();
  void drain_finished(bool timed_out);
  void finish_shutdown();
  void fatal(int exit_code, std::string_view message);
  void close_own_handles();

  Config config_;
  Logger log_;
  std::unique_ptr<ModeStrategy> mode_;
  std::string mode_error_;
  ModeContext context_;
  lifecycle::LockFile lock_;
  lifecycle::ConcurrencyLimiter limiter_;
  metrics::FunctionMetrics metrics_;
  std::unique_ptr<lifecycle::FunctionAuth> auth_; // with jwt_auth only

  uv_loop_t loop_{};
  uv_async_t stop_async_{};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_timer_t shutdown_timer_{};
  uv_prepare_t log_flush_{}; // notices held log lines before the loop waits
  uv_timer_t log_timer_{};   // writes them out kLogFlushDelayMs later
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Server> metrics_server_;

  std::atomic<bool> stop_requested_{false};
  const char* pending_shutdown_cause_ = nullptr; // a signal that arrived during start-up
  bool accepting_ = false;
  Phase phase_ = Phase::starting;
  int exit_code_ = 0;
  bool handles_closed_ = false;
};

} // namespace ofwatchdog
