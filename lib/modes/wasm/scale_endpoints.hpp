#pragma once
// Serving `/scale-reader` and `/scale-updater` (wasm-replica-endpoints) for mode=wasm, on whichever
// port the mode is asked to serve them (the metrics port; the main port too with
// scale_endpoints=main).

#include <functional>
#include <memory>

#include "modes/wasm/scale_api.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/log.hpp"

namespace ofwatchdog::modes {

struct ScaleTarget {
  std::function<ScaleStatus()> status;
  std::function<void(unsigned replicas)> resize;
};

// Largest `/scale-updater` body read; a larger one is answered 413.
constexpr std::size_t kMaxScaleBody = 64 * 1024;

bool is_scale_path(std::string_view path);
// Answers a request for one of the two paths (at once, or once its body has arrived). `target`
// must stay valid until the exchange ends; `log` too.
void serve_scale_endpoint(const std::shared_ptr<Exchange>& exchange, ScaleTarget target,
                          Logger& log);

} // namespace ofwatchdog::modes
