#include "modes/wasm/wasm_metrics.hpp"

#include <fmt/format.h>

namespace ofwatchdog::modes {

void WasmMetrics::observe_wait(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  wait_ns_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void WasmMetrics::append(std::string& text, const WorkerPoolStats& pool,
                         std::string_view engine) const {
  auto gauge = [&](std::string_view name, std::string_view help, double value) {
    text += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
  };
  gauge("wasm_instances", "Instances that may run at once (wasm_instances, /scale-updater)",
        pool.threads);
  gauge("wasm_instances_busy", "Instances running a request", pool.busy);
  // wasm-engines: which engine serves; under wasm_engine=auto it turns from interpreter to aot once
  // the background compile has finished.
  text += fmt::format("# HELP wasm_engine_info The engine new requests run on\n"
                      "# TYPE wasm_engine_info gauge\nwasm_engine_info{{engine=\"{}\"}} 1\n",
                      engine);
  gauge("wasm_requests_queued", "Requests waiting for an instance",
        static_cast<double>(pool.queued));
  text += fmt::format("# HELP wasm_requests_refused_total Requests answered 429 because the "
                      "queue was full\n# TYPE wasm_requests_refused_total counter\n"
                      "wasm_requests_refused_total {}\n",
                      refused_.load(std::memory_order_relaxed));
  text += "# HELP wasm_instance_wait_seconds Time a request waited for an instance\n"
          "# TYPE wasm_instance_wait_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    text +=
        fmt::format("wasm_instance_wait_seconds_bucket{{le=\"{}\"}} {}\n", kBounds[i], cumulative);
  }
  cumulative += buckets_.back().load(std::memory_order_relaxed);
  text += fmt::format("wasm_instance_wait_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  text += fmt::format("wasm_instance_wait_seconds_sum {}\n",
                      static_cast<double>(wait_ns_.load(std::memory_order_relaxed)) / 1e9);
  text += fmt::format("wasm_instance_wait_seconds_count {}\n", cumulative);
}

} // namespace ofwatchdog::modes
