// serve_metrics: what the metrics port answers, checked against a recording Exchange.
#include "metrics/metrics_endpoint.hpp"

#include <optional>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "metrics/function_metrics.hpp"
#include "metrics_text.hpp"

using ofwatchdog::CancelReason;
using ofwatchdog::Exchange;
using ofwatchdog::ExchangeHandler;
using ofwatchdog::Header;
using ofwatchdog::HeaderList;
using ofwatchdog::Request;
using ofwatchdog::ResponseHead;
using ofwatchdog::metrics::FunctionMetrics;
using ofwatchdog::metrics::serve_metrics;

namespace {

// An Exchange that records the response and insists on the order head, body, finish.
class RecordingExchange : public Exchange {
public:
  RecordingExchange(std::string method, std::string path, std::string query = "") {
    request_.method = std::move(method);
    request_.path = std::move(path);
    request_.raw_query = std::move(query);
    request_.target = request_.path + (request_.raw_query.empty() ? "" : "?" + request_.raw_query);
  }

  const Request& request() const override { return request_; }
  uv_loop_s* loop() const override { return nullptr; }
  void set_handler(ExchangeHandler* handler) override { handler_set = handler != nullptr; }
  void pause_body() override {}
  void resume_body() override {}
  void send_head(ResponseHead head) override {
    REQUIRE_FALSE(head_);
    REQUIRE_FALSE(done_);
    head_ = std::move(head);
  }
  bool send_body(std::string_view data) override {
    REQUIRE(head_);
    REQUIRE_FALSE(done_);
    body += data;
    return true;
  }
  void finish() override {
    REQUIRE_FALSE(done_);
    if (!head_) {
      head_ = ResponseHead{};
    }
    finished = true;
    done_ = true;
  }
  void abort() override { done_ = true; }
  bool head_sent() const override { return head_.has_value(); }
  int status() const override { return head_ ? head_->status : 0; }
  std::uint64_t body_bytes_sent() const override { return body.size(); }
  bool done() const override { return done_; }

  const ResponseHead& head() const { return *head_; }
  // The value of the only header with this exact name, or nothing.
  std::optional<std::string> header(std::string_view name) const {
    std::optional<std::string> found;
    for (const Header& h : head_->headers) {
      if (h.name == name) {
        REQUIRE_FALSE(found);
        found = h.value;
      }
    }
    return found;
  }
  void mark_done() { done_ = true; }

  std::string body;
  bool finished = false;
  bool handler_set = false;

private:
  Request request_;
  std::optional<ResponseHead> head_;
  bool done_ = false;
};

std::shared_ptr<RecordingExchange> serve(const FunctionMetrics& metrics, std::string method,
                                         std::string path, std::string query = "") {
  auto exchange =
      std::make_shared<RecordingExchange>(std::move(method), std::move(path), std::move(query));
  serve_metrics(exchange, metrics);
  return exchange;
}

} // namespace

TEST_CASE("GET /metrics answers 200 with the exposition text", "[metrics][endpoint]") {
  FunctionMetrics metrics;
  metrics.request_started();
  metrics.request_finished("POST", 200, 0.01);
  auto exchange = serve(metrics, "GET", "/metrics");
  REQUIRE(exchange->finished);
  CHECK(exchange->head().status == 200);
  CHECK(exchange->header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(exchange->head().headers.size() == 1);
  REQUIRE(exchange->head().content_length);
  CHECK(*exchange->head().content_length == exchange->body.size());
  using ofwatchdog::metrics::test::sample;
  CHECK(sample(exchange->body, "http_requests_in_flight") == 0.0);
  CHECK(sample(exchange->body, R"(http_requests_total{code="200",method="post"})") == 1.0);
  // The body is not read, so the server can discard it; no handler is needed.
  CHECK_FALSE(exchange->handler_set);
}

TEST_CASE("/metrics answers any method and ignores the query", "[metrics][endpoint]") {
  FunctionMetrics metrics;
  for (const char* method : {"POST", "PUT", "DELETE", "HEAD", "PROPFIND"}) {
    INFO(method);
    auto exchange = serve(metrics, method, "/metrics");
    CHECK(exchange->finished);
    CHECK(exchange->head().status == 200);
  }
  auto with_query = serve(metrics, "GET", "/metrics", "name[]=x");
  CHECK(with_query->head().status == 200);
}

TEST_CASE("scrapes are not counted as function requests", "[metrics][endpoint]") {
  FunctionMetrics metrics;
  serve(metrics, "GET", "/metrics");
  auto exchange = serve(metrics, "GET", "/metrics");
  CHECK_FALSE(ofwatchdog::metrics::test::contains(exchange->body, "http_requests_total"));
  CHECK(metrics.in_flight() == 0);
}

TEST_CASE("every other path is the Go mux's 404 page", "[metrics][endpoint]") {
  FunctionMetrics metrics;
  for (const char* path : {"/", "/metrics/", "/metric", "/Metrics", "/metrics/x", "/_/health"}) {
    INFO(path);
    auto exchange = serve(metrics, "GET", path);
    REQUIRE(exchange->finished);
    CHECK(exchange->head().status == 404);
    CHECK(exchange->header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(exchange->header("X-Content-Type-Options") == "nosniff");
    CHECK(exchange->head().headers.size() == 2);
    CHECK(exchange->head().content_length == 19u);
    CHECK(exchange->body == "404 page not found\n");
  }
}

TEST_CASE("an exchange that already ended is left alone", "[metrics][endpoint]") {
  FunctionMetrics metrics;
  auto exchange = std::make_shared<RecordingExchange>("GET", "/metrics");
  exchange->mark_done();
  serve_metrics(exchange, metrics);
  CHECK_FALSE(exchange->head_sent());
  CHECK(exchange->body.empty());
}
