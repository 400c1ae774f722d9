// ProcessCollector: the process_* series read from /proc/self.
#include "metrics/process_collector.hpp"

#include <ctime>
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "metrics/function_metrics.hpp"
#include "metrics_text.hpp"

using ofwatchdog::metrics::FunctionMetrics;
using ofwatchdog::metrics::ProcessCollector;

namespace {

struct Series {
  prometheus::MetricType type;
  double value;
};

std::map<std::string, Series> collect() {
  std::map<std::string, Series> out;
  for (const prometheus::MetricFamily& family : ProcessCollector().Collect()) {
    REQUIRE(family.metric.size() == 1);
    REQUIRE(family.metric[0].label.empty());
    REQUIRE_FALSE(family.help.empty());
    const prometheus::ClientMetric& metric = family.metric[0];
    double value =
        family.type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value;
    out[family.name] = Series{family.type, value};
  }
  return out;
}

} // namespace

TEST_CASE("the process collector exports the six process series with their types",
          "[metrics][process]") {
  std::map<std::string, Series> series = collect();
  REQUIRE(series.size() == 6);
  CHECK(series.at("process_cpu_seconds_total").type == prometheus::MetricType::Counter);
  for (const char* gauge : {"process_open_fds", "process_max_fds", "process_resident_memory_bytes",
                            "process_virtual_memory_bytes", "process_start_time_seconds"}) {
    INFO(gauge);
    CHECK(series.at(gauge).type == prometheus::MetricType::Gauge);
  }
}

TEST_CASE("the process series have plausible values", "[metrics][process]") {
  std::map<std::string, Series> series = collect();
  // stdin, stdout and stderr at least; the directory listing them is not counted.
  CHECK(series.at("process_open_fds").value >= 3);
  CHECK(series.at("process_max_fds").value >= series.at("process_open_fds").value);
  CHECK(series.at("process_cpu_seconds_total").value >= 0);
  CHECK(series.at("process_resident_memory_bytes").value > 0);
  CHECK(series.at("process_virtual_memory_bytes").value >=
        series.at("process_resident_memory_bytes").value);
  double now = static_cast<double>(std::time(nullptr));
  double start = series.at("process_start_time_seconds").value;
  CHECK(start <= now + 1);
  CHECK(start > now - 24 * 3600);
}

TEST_CASE("open fds follow descriptors opened by the process", "[metrics][process]") {
  double before = collect().at("process_open_fds").value;
  std::FILE* file = std::fopen("/proc/self/stat", "r");
  REQUIRE(file != nullptr);
  double during = collect().at("process_open_fds").value;
  std::fclose(file);
  CHECK(during == before + 1);
}

TEST_CASE("the process series appear in the rendered registry", "[metrics][process]") {
  std::string text = FunctionMetrics().render();
  using ofwatchdog::metrics::test::contains;
  using ofwatchdog::metrics::test::sample;
  CHECK(contains(text, "# TYPE process_cpu_seconds_total counter\n"));
  CHECK(contains(text, "# TYPE process_open_fds gauge\n"));
  CHECK(contains(text, "# TYPE process_max_fds gauge\n"));
  CHECK(contains(text, "# TYPE process_resident_memory_bytes gauge\n"));
  CHECK(contains(text, "# TYPE process_virtual_memory_bytes gauge\n"));
  CHECK(contains(text, "# TYPE process_start_time_seconds gauge\n"));
  CHECK(sample(text, "process_open_fds").value_or(0) > 0);
  CHECK(sample(text, "process_resident_memory_bytes").value_or(0) > 0);
}
