#pragma once
// `mode=http`: a long-lived function server started once, and a keep-alive reverse proxy to it
// (docs/http-mode.md; its rules are the "http mode" ones of docs/decisions.md). The per-request
// work is HttpProxyExchange's.
//
// The child. `fprocess` is spawned once in `start` (in its own process group), with the
// watchdog's environment; its stdout and stderr are relayed to the watchdog's stdout and stderr
// line by line, never blocking it. As function-server-shutdown says, it lives through
// `healthcheck_interval` and the drain; `stop` sends its group SIGTERM, then SIGKILL after a 5 s
// grace, and finishes once it has exited and its pipes are closed. Any exit outside shutdown,
// even with status 0, is fatal (function-server-exit): the watchdog logs
// `Forked function has terminated: <err>` and exits 1.

#include <functional>
#include <memory>
#include <optional>

#include <uv.h>

#include "modes/http_proxy/http_proxy_exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"
#include "process/child_process.hpp"
#include "process/output_relay.hpp"
#include "upstream/upstream_pool.hpp"

namespace ofwatchdog::modes {

class HttpProxyMode : public ModeStrategy {
public:
  // How long idle upstream connections are kept. See docs/http-mode.md for the choice.
  static constexpr auto kIdleTimeout = std::chrono::seconds(1);
  static constexpr std::size_t kMaxIdle = 100;
  // The child's grace between SIGTERM and SIGKILL at shutdown.
  static constexpr auto kKillGrace = std::chrono::seconds(5);

  HttpProxyMode();
  ~HttpProxyMode() override;

  int start(ModeContext& context) override;
  void handle(std::shared_ptr<Exchange> exchange) override;
  void stop(std::function<void()> done) override;

  // For tests: the pool (null before start).
  upstream::UpstreamPool* pool() { return pool_.get(); }
  int child_pid() const { return child_ != nullptr ? child_->pid() : 0; }

private:
  void on_child_exit(const process::ExitStatus& status);
  void on_grace_expired();
  void maybe_stopped();

  std::shared_ptr<JobRegistry> registry_;
  std::unique_ptr<upstream::UpstreamPool> pool_;
  process::ChildProcess* child_ = nullptr;
  std::optional<process::OutputRelay> stdout_relay_;
  std::optional<process::OutputRelay> stderr_relay_;
  std::optional<process::ExitStatus> exit_status_;
  uv_timer_t grace_timer_{};
  bool grace_timer_open_ = false;
  bool stopping_ = false;
  bool stop_all_returned_ = false; // registry_->stop_all has returned (its callback may be later)
  bool exchanges_done_ = false;
  bool release_pending_ = false; // the child's handles are closing
  std::function<void()> stop_done_;
};

} // namespace ofwatchdog::modes

namespace ofwatchdog {
// The http mode, for the Watchdog to use when `mode=http`.
std::unique_ptr<ModeStrategy> make_http_proxy_mode();
} // namespace ofwatchdog
