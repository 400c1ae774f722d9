// FunctionMetrics: the http_* families, their labels and buckets, and the rendered text.
#include "metrics/function_metrics.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "metrics_text.hpp"

using ofwatchdog::metrics::FunctionMetrics;
using ofwatchdog::metrics::method_label;
using ofwatchdog::metrics::test::contains;
using ofwatchdog::metrics::test::sample;

namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

// Feeds `text` to `promtool check metrics` on its stdin; returns its exit status. Its complaints
// are shown unless `quiet`, so a failure explains itself.
int promtool_check(const std::string& text, bool quiet = false) {
  std::FILE* pipe = ::popen(quiet ? "/usr/bin/promtool check metrics >/dev/null 2>&1"
                                  : "/usr/bin/promtool check metrics",
                            "w");
  REQUIRE(pipe != nullptr);
  std::fwrite(text.data(), 1, text.size(), pipe);
  int status = ::pclose(pipe);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

} // namespace

TEST_CASE("a fresh registry exports the in-flight gauge at 0 and no request series", "[metrics]") {
  FunctionMetrics metrics;
  std::string text = metrics.render();
  CHECK(contains(text, "# HELP http_requests_in_flight total HTTP requests in-flight\n"
                       "# TYPE http_requests_in_flight gauge\n"
                       "http_requests_in_flight 0\n"));
  CHECK(metrics.in_flight() == 0);
  // As in the original, the labelled families only appear with their first series.
  CHECK_FALSE(contains(text, "http_requests_total"));
  CHECK_FALSE(contains(text, "http_request_duration_seconds"));
}

TEST_CASE("after a request the three families carry the original's HELP and TYPE lines",
          "[metrics]") {
  FunctionMetrics metrics;
  metrics.request_started();
  metrics.request_finished("GET", 200, 0.001);
  std::string text = metrics.render();
  CHECK(contains(text, "# HELP http_requests_total total HTTP requests processed\n"
                       "# TYPE http_requests_total counter\n"));
  CHECK(contains(text, "# HELP http_request_duration_seconds Seconds spent serving HTTP requests.\n"
                       "# TYPE http_request_duration_seconds histogram\n"));
  CHECK(contains(text, "# HELP http_requests_in_flight total HTTP requests in-flight\n"
                       "# TYPE http_requests_in_flight gauge\n"));
}

TEST_CASE("the in-flight gauge follows started and finished requests", "[metrics]") {
  FunctionMetrics metrics;
  metrics.request_started();
  metrics.request_started();
  CHECK(metrics.in_flight() == 2);
  CHECK(sample(metrics.render(), "http_requests_in_flight") == 2.0);
  metrics.request_finished("POST", 200, 0.01);
  CHECK(metrics.in_flight() == 1);
  metrics.request_finished("POST", 200, 0.01);
  CHECK(metrics.in_flight() == 0);
  CHECK(sample(metrics.render(), "http_requests_in_flight") == 0.0);
}

TEST_CASE("the counter counts per code and method pair", "[metrics]") {
  FunctionMetrics metrics;
  for (int i = 0; i < 3; ++i) {
    metrics.request_started();
    metrics.request_finished("POST", 200, 0.002);
  }
  metrics.request_started();
  metrics.request_finished("POST", 429, 0.0001);
  metrics.request_started();
  metrics.request_finished("GET", 500, 0.2);
  std::string text = metrics.render();
  CHECK(sample(text, R"(http_requests_total{code="200",method="post"})") == 3.0);
  CHECK(sample(text, R"(http_requests_total{code="429",method="post"})") == 1.0);
  CHECK(sample(text, R"(http_requests_total{code="500",method="get"})") == 1.0);
  CHECK_FALSE(sample(text, R"(http_requests_total{code="200",method="get"})"));
}

TEST_CASE("a request without a status is recorded as 200", "[metrics]") {
  FunctionMetrics metrics;
  metrics.request_started();
  metrics.request_finished("GET", 0, 0.001);
  std::string text = metrics.render();
  CHECK(sample(text, R"(http_requests_total{code="200",method="get"})") == 1.0);
  CHECK_FALSE(contains(text, R"(code="0")"));
}

TEST_CASE("durations land in the original's buckets", "[metrics]") {
  FunctionMetrics metrics;
  metrics.request_started();
  metrics.request_finished("POST", 200, 0.03);
  metrics.request_started();
  metrics.request_finished("POST", 200, 7.0);
  std::string text = metrics.render();
  const std::string prefix =
      R"(http_request_duration_seconds_bucket{code="200",method="post",le=")";
  auto bucket = [&](const char* le) { return sample(text, prefix + le + "\"}"); };
  CHECK(bucket("0.005") == 0.0);
  CHECK(bucket("0.01") == 0.0);
  CHECK(bucket("0.025") == 0.0);
  CHECK(bucket("0.05") == 1.0);
  CHECK(bucket("0.1") == 1.0);
  CHECK(bucket("0.25") == 1.0);
  CHECK(bucket("0.5") == 1.0);
  CHECK(bucket("1") == 1.0);
  CHECK(bucket("2.5") == 1.0);
  CHECK(bucket("5") == 1.0);
  CHECK(bucket("10") == 2.0);
  CHECK(bucket("+Inf") == 2.0);
  CHECK(sample(text, R"(http_request_duration_seconds_count{code="200",method="post"})") == 2.0);
  CHECK(sample(text, R"(http_request_duration_seconds_sum{code="200",method="post"})") ==
        Approx(7.03));
  // Exactly the eleven buckets and +Inf, no others.
  std::size_t lines = 0;
  for (std::size_t at = text.find(prefix); at != std::string::npos;
       at = text.find(prefix, at + 1)) {
    ++lines;
  }
  CHECK(lines == 12);
}

TEST_CASE("the method label is lower-cased for known methods and unknown otherwise", "[metrics]") {
  CHECK(method_label("GET") == "get");
  CHECK(method_label("get") == "get");
  CHECK(method_label("PUT") == "put");
  CHECK(method_label("HEAD") == "head");
  CHECK(method_label("POST") == "post");
  CHECK(method_label("DELETE") == "delete");
  CHECK(method_label("CONNECT") == "connect");
  CHECK(method_label("OPTIONS") == "options");
  CHECK(method_label("NOTIFY") == "notify");
  CHECK(method_label("TRACE") == "trace");
  CHECK(method_label("PATCH") == "patch");
  CHECK(method_label("PROPFIND") == "unknown");
  CHECK(method_label("Get") == "unknown");
  CHECK(method_label("") == "unknown");

  FunctionMetrics metrics;
  metrics.request_started();
  metrics.request_finished("PROPFIND", 207, 0.001);
  metrics.request_started();
  metrics.request_finished("MKCOL", 207, 0.001);
  std::string text = metrics.render();
  // Every unknown method shares one series, so clients cannot create series at will.
  CHECK(sample(text, R"(http_requests_total{code="207",method="unknown"})") == 2.0);
  CHECK_FALSE(contains(text, "propfind"));
}

TEST_CASE("the rendered text passes promtool check metrics", "[metrics][promtool]") {
  if (::access(kPromtool, X_OK) != 0) {
    WARN("skipped: " << kPromtool << " is not installed");
    return;
  }
  // The check must be able to fail, or a passing result would mean nothing.
  REQUIRE(promtool_check("# TYPE broken counter\nbroken{ 1\n", true) != 0);

  FunctionMetrics metrics;
  REQUIRE(promtool_check(metrics.render()) == 0);
  metrics.request_started();
  metrics.request_finished("GET", 200, 0.03);
  metrics.request_started();
  metrics.request_finished("BREW", 418, 12.0);
  metrics.request_started();
  std::string text = metrics.render();
  INFO(text);
  CHECK(promtool_check(text) == 0);
}
