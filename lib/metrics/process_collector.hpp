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
  // Reads the start time once: it never changes, and a failed read just leaves it out.
  ProcessCollector();

  // One family per series that could be read; a series whose /proc source is missing or
  // malformed is left out rather than reported as a made-up value.
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::optional<double> start_time_seconds_;
};

} // namespace ofwatchdog::metrics
