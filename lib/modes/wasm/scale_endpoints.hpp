#pragma once
// Serving `/scale-reader` and `/scale-updater` (wasm-replica-endpoints) for mode=wasm, on whichever
// port the mode is asked to serve them (the metrics port; the main port too with
// scale_endpoints=main).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "modes/wasm/scale_api.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/log.hpp"

namespace ofwatchdog::modes {

struct ScaleTarget {
  std::function<ScaleStatus()> status;
  // Resizes, or says why the size is refused (the pool is left as it is). It returns before
  // the pool has grown; new workers come up in the background.
  std::function<std::optional<std::string>(unsigned replicas)> resize;
};

// Largest `/scale-updater` body read; a larger one is answered 413.
constexpr std::size_t kMaxScaleBody = 64 * 1024;

bool is_scale_path(std::string_view path);
// Answers a request for one of the two paths (at once, or once its body has arrived). `target`
// must stay valid until the exchange ends; `log` too.
void serve_scale_endpoint(const std::shared_ptr<Exchange>& exchange, ScaleTarget target,
                          Logger& log);

} // namespace ofwatchdog::modes
