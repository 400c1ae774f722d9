#pragma once
// The `process_*` series of the running process, read from /proc/self when scraped.
//
// Dashboards built for the original (and for most Prometheus exporters) expect CPU time, memory,
// file descriptors and start time under these names, so we export them even though the Go
// runtime series (`go_*`) have no C++ counterpart.

#include <optional>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace ofwatchdog::metrics {

class ProcessCollector : public prometheus::Collectable {
public:
  // Reads nothing: the start time is read at the first scrape, so a watchdog that is never
  // scraped never opens /proc/stat (it is the kernel's record of when the process started, the
  // same value whenever it is read).
  ProcessCollector() = default;

  // One family per series that could be read; a series whose /proc source is missing or
  // malformed is left out rather than reported as a made-up value.
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  // The start time once read: it never changes, and a failed read just leaves it out (and is
  // not retried, since /proc does not come and go).
  mutable std::optional<double> start_time_seconds_;
  mutable bool start_time_read_ = false;
};

} // namespace ofwatchdog::metrics
