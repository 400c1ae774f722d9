// The function route's Prometheus series and the text rendering of the whole registry.
#include "metrics/function_metrics.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "metrics/process_collector.hpp"

namespace ofwatchdog::metrics {

namespace {

struct KnownMethod {
  std::string_view upper;
  std::string_view lower;
};

constexpr std::array<KnownMethod, 10> kKnownMethods{{
    {"GET", "get"},
    {"PUT", "put"},
    {"HEAD", "head"},
    {"POST", "post"},
    {"DELETE", "delete"},
    {"CONNECT", "connect"},
    {"OPTIONS", "options"},
    {"NOTIFY", "notify"},
    {"TRACE", "trace"},
    {"PATCH", "patch"},
}};

constexpr std::string_view kUnknownMethod = "unknown";

// The index of the method's label in kKnownMethods, or kKnownMethods.size() for "unknown".
std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i < kKnownMethods.size(); ++i) {
    if (method == kKnownMethods[i].upper || method == kKnownMethods[i].lower) {
      return i;
    }
  }
  return kKnownMethods.size();
}

std::string_view label_for_index(std::size_t index) {
  return index < kKnownMethods.size() ? kKnownMethods[index].lower : kUnknownMethod;
}

const prometheus::Histogram::BucketBoundaries& duration_buckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                0.5,   1,    2.5,   5,    10};
  return kBuckets;
}

bool by_labels(const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
  return a.label < b.label;
}

} // namespace

std::string_view method_label(std::string_view method) {
  return label_for_index(method_index(method));
}

struct FunctionMetrics::State {
  // The counter and histogram of one (code, method) pair. Building a label map and looking it up
  // in a prometheus Family takes a lock and several allocations, so each pair is resolved once
  // and the references kept; the Family never frees a metric we do not Remove.
  struct Series {
    prometheus::Counter* requests = nullptr;
    prometheus::Histogram* duration = nullptr;
  };

  State()
      : requests(prometheus::BuildCounter()
                     .Name("http_requests_total")
                     .Help("total HTTP requests processed")
                     .Register(registry)),
        durations(prometheus::BuildHistogram()
                      .Name("http_request_duration_seconds")
                      .Help("Seconds spent serving HTTP requests.")
                      .Register(registry)),
        // The gauge is added now, with no labels, so it is exported as 0 before any request,
        // as the original does.
        in_flight(prometheus::BuildGauge()
                      .Name("http_requests_in_flight")
                      .Help("total HTTP requests in-flight")
                      .Register(registry)
                      .Add({})) {}

  Series& series_for(int status, std::size_t method) {
    // Status codes are three digits, so this key cannot collide for real statuses; anything
    // else a caller passes still gets its own series under its own text.
    std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(status)) << 8) |
                        static_cast<std::uint64_t>(method);
    auto found = series.find(key);
    if (found != series.end()) {
      return found->second;
    }
    prometheus::Labels labels{{"code", std::to_string(status)},
                              {"method", std::string(label_for_index(method))}};
    Series made;
    made.requests = &requests.Add(labels);
    made.duration = &durations.Add(labels, duration_buckets());
    return series.emplace(key, made).first->second;
  }

  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& durations;
  prometheus::Gauge& in_flight;
  ProcessCollector process;
  std::unordered_map<std::uint64_t, Series> series;
  prometheus::Family<prometheus::Counter>* auth_denials = nullptr; // with jwt_auth only
};

FunctionMetrics::FunctionMetrics() : state_(std::make_unique<State>()) {}

FunctionMetrics::~FunctionMetrics() = default;

void FunctionMetrics::request_started() {
  state_->in_flight.Increment();
}

void FunctionMetrics::request_finished(std::string_view method, int status, double seconds) {
  state_->in_flight.Decrement();
  State::Series& series = state_->series_for(status <= 0 ? 200 : status, method_index(method));
  series.requests->Increment();
  series.duration->Observe(seconds);
}

void FunctionMetrics::enable_auth_denials() {
  if (state_->auth_denials == nullptr)
    state_->auth_denials = &prometheus::BuildCounter()
                                .Name("jwt_auth_denials_total")
                                .Help("function requests refused by jwt_auth, by reason")
                                .Register(state_->registry);
}

void FunctionMetrics::auth_denied(std::string_view reason) {
  enable_auth_denials();
  state_->auth_denials->Add({{"reason", std::string(reason)}}).Increment();
}

long FunctionMetrics::in_flight() const {
  return static_cast<long>(state_->in_flight.Value());
}

std::string FunctionMetrics::render() const {
  std::vector<prometheus::MetricFamily> families = state_->registry.Collect();
  std::vector<prometheus::MetricFamily> process = state_->process.Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
                  std::make_move_iterator(process.end()));
  // Sorted by name, and each family's series by labels, as the original's client library
  // does, so that two scrapes list the same series in the same order.
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (prometheus::MetricFamily& family : families) {
    std::sort(family.metric.begin(), family.metric.end(), by_labels);
  }
  return prometheus::TextSerializer().Serialize(families);
}

} // namespace ofwatchdog::metrics
