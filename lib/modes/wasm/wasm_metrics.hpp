#pragma once
// mode=wasm's series on `/metrics` (wasm-metrics): the pool's size and load, the requests refused
// for a full queue, and how long requests waited for an instance. The wait is observed on worker
// threads, so the histogram is a set of atomics, rendered on the loop at each scrape.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "ofwatchdog/worker_pool.hpp"

namespace ofwatchdog::modes {

class WasmMetrics {
public:
  // Any thread.
  void observe_wait(double seconds);
  void count_refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  // Loop thread: the series in the Prometheus text format; `engine` is the engine new
  // requests go to ("aot" or "interpreter").
  void append(std::string& text, const WorkerPoolStats& pool, std::string_view engine) const;

private:
  static constexpr std::array<double, 10> kBounds = {0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                     0.05,   0.1,    0.5,   1,     5};
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{}; // the last is +Inf
  std::atomic<std::uint64_t> wait_ns_{0};
  std::atomic<std::uint64_t> refused_{0};
};

} // namespace ofwatchdog::modes
