#pragma once
// How a mode plugs into the watchdog.
//
// The `Watchdog` owns the HTTP listener, health, readiness, the lock file, metrics,
// `max_inflight` and the graceful drain. A `ModeStrategy` only turns each function request into
// a response. It is created before the loop runs, `start`ed once before the port is bound,
// given each request with `handle`, and `stop`ped after the drain.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/log.hpp"

struct uv_loop_s;

namespace ofwatchdog {

// What the watchdog lends a mode for its lifetime.
struct OFWATCHDOG_API ModeContext {
  uv_loop_s* loop = nullptr;
  const Config* config = nullptr;
  Logger* log = nullptr;
  // Ends the watchdog at once with this exit status (e.g. http mode's child died). The message
  // is logged first.
  std::function<void(int exit_code, std::string_view message)> fatal;
};

class OFWATCHDOG_API ModeStrategy {
public:
  virtual ~ModeStrategy() = default;

  // Called once on the loop thread before the listener is bound. Returns 0, or the exit status
  // to stop start-up with (after logging why through `context.log`).
  virtual int start(ModeContext& context) {
    context_ = context;
    return 0;
  }

  // A request for the function. The strategy keeps `exchange` alive until it has finished,
  // aborted, or been cancelled, and must answer even on failure (e.g. 500 with the error).
  virtual void handle(std::shared_ptr<Exchange> exchange) = 0;

  // Called after the drain, before the loop ends; `done` must be called (possibly later, on
  // the loop) when the mode has released everything it holds on the loop.
  virtual void stop(std::function<void()> done) { done(); }

  // The mode's own series for `/metrics` on the metrics port, appended to the watchdog's in the
  // Prometheus text format (0.0.4), e.g. a pool's size and queue. Called on the loop thread
  // at each scrape.
  virtual void append_metrics(std::string& text) const { (void)text; }
  // A request to the metrics port for a path other than `/metrics`: the mode may answer it
  // (mode=wasm's `/scale-reader` and `/scale-updater`) and return true. The metrics port is
  // never routed by a gateway, so it is the place for endpoints meant for the platform only.
  virtual bool handle_control(const std::shared_ptr<Exchange>& exchange) {
    (void)exchange;
    return false;
  }

protected:
  ModeContext context_;
};

} // namespace ofwatchdog
