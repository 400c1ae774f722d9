// The http-mode proxy exchange on a real loop: a fake client exchange on one side, a scripted
// upstream listening on loopback on the other. No function process is involved: the pool points
// straight at the scripted upstream.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../../process/test_loop.hpp"
#include "../../upstream/scripted_upstream.hpp"
#include "../mode_harness.hpp"
#include "modes/http_proxy/http_proxy_exchange.hpp"
#include "ofwatchdog/log.hpp"
#include "upstream/upstream_pool.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::close_connection;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::ModeFixture;
using ofwatchdog::testing::read_all;
using ofwatchdog::testing::Script;
using ofwatchdog::testing::ScriptedUpstream;
using ofwatchdog::testing::send;
using ofwatchdog::testing::TestLoop;
using ofwatchdog::testing::wait_for;

namespace {

constexpr const char* kHeadEnd = "\r\n\r\n";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One proxy setup: the loop, the scripted upstream, a pool pointing at it, and a logger
// writing to a temporary file.
struct Harness : ModeFixture {
  explicit Harness(std::vector<Script> scripts) : upstream(loop.get(), std::move(scripts)) {
    config.mode = "http";
    config.exec_timeout = std::chrono::seconds(10);
    context.fatal = [](int, std::string_view) { FAIL("fatal called"); };
    point_at(upstream.url());
  }
  void point_at(const std::string& url) {
    auto parsed = upstream::parse_upstream_url(url);
    REQUIRE(parsed);
    pool =
        std::make_unique<upstream::UpstreamPool>(loop.get(), *parsed, std::chrono::seconds(30), 8);
  }

  std::shared_ptr<FakeExchange> serve(Request request, std::string body = {},
                                      std::size_t piece = 64 * 1024) {
    auto ex = std::make_shared<FakeExchange>(loop.get(), std::move(request));
    ex->set_body(std::move(body), piece);
    exchanges.push_back(ex);
    modes::HttpProxyExchange::start(context, *pool, ex, registry);
    return ex;
  }

  std::shared_ptr<FakeExchange> serve_and_wait(Request request, std::string body = {},
                                               std::size_t piece = 64 * 1024) {
    auto ex = serve(std::move(request), std::move(body), piece);
    loop.run_until([&] { return ex->done() && registry->empty(); });
    return ex;
  }

  // Ends everything and checks that every handle closes.
  void finish() {
    pool->shut_down();
    loop.run_until([&] { return registry->empty(); });
    upstream.stop();
    for (auto& ex : exchanges)
      ex->close();
    loop.run();
  }

  ScriptedUpstream upstream;
  std::unique_ptr<upstream::UpstreamPool> pool;
  std::shared_ptr<JobRegistry> registry = std::make_shared<JobRegistry>();
  std::vector<std::shared_ptr<FakeExchange>> exchanges;
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

const auto kContinueWaitMs = static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(modes::HttpProxyExchange::kContinueWait)
        .count());

Request post(std::string target, std::uint64_t length, HeaderList headers = {}) {
  headers.push_back({"Content-Length", std::to_string(length)});
  Request r = make_request("POST", std::move(target), std::move(headers));
  r.content_length = length;
  return r;
}

Request chunked_post(std::string target) {
  Request r = make_request("POST", std::move(target), {{"Transfer-Encoding", "chunked"}});
  r.chunked = true;
  return r;
}

} // namespace

TEST_CASE("http proxy: request line, headers and body are forwarded", "[http_proxy]") {
  Harness h({{wait_for("hello world"),
              send("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Up: 1\r\n"
                   "Connection: keep-alive, X-Up-Hop\r\nX-Up-Hop: no\r\nKeep-Alive: timeout=5\r\n"
                   "\r\nok")}});
  Request r = post("/fn?x=1", 11,
                   {{"Connection", "keep-alive, X-Hop"},
                    {"X-Hop", "secret"},
                    {"Keep-Alive", "timeout=5"},
                    {"Proxy-Authorization", "Basic abc"},
                    {"X-Custom", "yes"}});
  r.remote_address = "10.1.2.3:5555";
  auto ex = h.serve_and_wait(std::move(r), "hello world", 4);

  std::string got = h.upstream.received(0);
  CHECK(got.rfind("POST /fn?x=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(contains(got, "\r\nHost: localhost\r\n"));
  CHECK(contains(got, "\r\nX-Custom: yes\r\n"));
  CHECK(contains(got, "\r\nContent-Length: 11\r\n"));
  CHECK(contains(got, "\r\nX-Forwarded-For: 10.1.2.3\r\n"));
  CHECK(contains(got, "\r\nX-Forwarded-Host: localhost\r\n"));
  CHECK(contains(got, "\r\nX-Forwarded-Proto: http\r\n"));
  CHECK_FALSE(contains(got, "X-Hop"));
  CHECK_FALSE(contains(got, "Keep-Alive"));
  CHECK_FALSE(contains(got, "Proxy-Authorization"));
  CHECK_FALSE(contains(got, "Transfer-Encoding"));
  CHECK(got.size() >= 15);
  CHECK(got.substr(got.size() - 15) == "\r\n\r\nhello world");

  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 201);
  CHECK(ex->head->content_length == 2u);
  CHECK(ex->body == "ok");
  CHECK(ex->response_header("X-Up"));
  CHECK(ex->response_header("X-Duration-Seconds"));
  CHECK_FALSE(ex->response_header("Connection"));
  CHECK_FALSE(ex->response_header("Keep-Alive"));
  CHECK_FALSE(ex->response_header("X-Up-Hop"));
  CHECK_FALSE(ex->response_header("Content-Length"));
  h.finish();
  CHECK(contains(h.logged(), "POST /fn?x=1 - 201 Created - ContentLength: 2B"));
}

TEST_CASE("http proxy: a chunked request stays chunked when not buffering", "[http_proxy]") {
  Harness h({{wait_for("0\r\n\r\n"), send(kOk)}});
  auto ex = h.serve_and_wait(chunked_post("/"), "hello world", 5);
  std::string got = h.upstream.received(0);
  CHECK(contains(got, "\r\nTransfer-Encoding: chunked\r\n"));
  CHECK_FALSE(contains(got, "Content-Length"));
  std::size_t body_at = got.find(kHeadEnd);
  REQUIRE(body_at != std::string::npos);
  CHECK(got.substr(body_at + 4) == "5\r\nhello\r\n5\r\n worl\r\n1\r\nd\r\n0\r\n\r\n");
  CHECK(ex->finished);
  CHECK(ex->body == "ok");
  h.finish();
}

TEST_CASE("http proxy: http_buffer_req_body sends a Content-Length", "[http_proxy]") {
  Harness h({{wait_for("hello world"), send(kOk)}});
  h.config.http_buffer_req_body = true;
  auto ex = h.serve_and_wait(chunked_post("/"), "hello world", 5);
  std::string got = h.upstream.received(0);
  CHECK(contains(got, "\r\nContent-Length: 11\r\n"));
  CHECK_FALSE(contains(got, "Transfer-Encoding"));
  CHECK(got.substr(got.find(kHeadEnd) + 4) == "hello world");
  CHECK(ex->finished);
  CHECK(ex->body == "ok");
  h.finish();
}

TEST_CASE("http proxy: a chunked response is relayed and the connection pooled", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")}});
  auto ex = h.serve_and_wait(make_request("GET", "/"));
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK_FALSE(ex->head->content_length);
  CHECK_FALSE(ex->response_header("Transfer-Encoding"));
  CHECK(ex->body == "hello world");
  CHECK(h.pool->idle_count() == 1);
  h.finish();
}

TEST_CASE("http proxy: a body delimited by the close is relayed whole", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc"),
              send("def"), close_connection()}});
  auto ex = h.serve_and_wait(make_request("GET", "/"));
  CHECK(ex->finished);
  CHECK_FALSE(ex->aborted);
  REQUIRE(ex->head);
  CHECK_FALSE(ex->head->content_length);
  CHECK(ex->body == "abcdef");
  CHECK(h.pool->idle_count() == 0);
  h.finish();
}

TEST_CASE("http proxy: a second request reuses the pooled connection", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk), wait_for(kHeadEnd),
              send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")}});
  auto first = h.serve_and_wait(make_request("GET", "/one"));
  auto second = h.serve_and_wait(make_request("GET", "/two"));
  CHECK(first->body == "ok");
  CHECK(second->finished);
  CHECK(second->body == "second");
  CHECK(h.upstream.accepted() == 1);
  CHECK(h.pool->opened() == 1);
  CHECK(contains(h.upstream.received(0), "GET /two HTTP/1.1\r\n"));
  h.finish();
}

TEST_CASE("http proxy: an idle connection the upstream closed leaves the pool", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk), close_connection()},
             {wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew")}});
  auto first = h.serve_and_wait(make_request("GET", "/"));
  CHECK(first->body == "ok");
  // The idle EOF is noticed without any request being sent on the connection.
  h.loop.run_until([&] { return h.upstream.closed() == 1 && h.pool->idle_count() == 0; });
  auto second = h.serve_and_wait(make_request("GET", "/"));
  CHECK(second->finished);
  CHECK(second->body == "new");
  CHECK(h.upstream.accepted() == 2);
  CHECK(h.upstream.received(0).find("GET", 1) == std::string::npos); // one request only
  h.finish();
  CHECK_FALSE(contains(h.logged(), "Upstream HTTP request error"));
}

TEST_CASE("http proxy: an idempotent request on a reused connection that fails is retried once",
          "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk), wait_for(kHeadEnd), close_connection()},
             {wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nretry")}});
  auto first = h.serve_and_wait(make_request("GET", "/"));
  CHECK(first->body == "ok");
  auto second = h.serve_and_wait(make_request("DELETE", "/item"));
  CHECK(second->finished);
  REQUIRE(second->head);
  CHECK(second->head->status == 200);
  CHECK(second->body == "retry");
  CHECK(h.upstream.accepted() == 2);
  CHECK(contains(h.upstream.received(1), "DELETE /item HTTP/1.1\r\n"));
  h.finish();
  CHECK_FALSE(contains(h.logged(), "Upstream HTTP request error"));
}

TEST_CASE("http proxy: a retried request that fails again is a 502", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk), wait_for(kHeadEnd), close_connection()},
             {wait_for(kHeadEnd), close_connection()}});
  h.serve_and_wait(make_request("GET", "/"));
  auto second = h.serve_and_wait(make_request("GET", "/"));
  REQUIRE(second->head);
  CHECK(second->head->status == 502);
  CHECK(h.upstream.accepted() == 2);
  h.finish();
}

TEST_CASE("http proxy: a POST on a reused connection that fails is not retried", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk), wait_for("abc"), close_connection()},
             {wait_for(kHeadEnd), send(kOk)}});
  h.serve_and_wait(make_request("GET", "/"));
  auto second = h.serve_and_wait(post("/", 3), "abc");
  CHECK(second->finished);
  REQUIRE(second->head);
  CHECK(second->head->status == 502);
  CHECK(second->head->content_length == 0u);
  REQUIRE(second->response_header("X-OpenFaaS-Internal"));
  CHECK(*second->response_header("X-OpenFaaS-Internal") == "of-watchdog");
  CHECK(h.upstream.accepted() == 1);
  h.finish();
  CHECK(
      contains(h.logged(), "Upstream HTTP request error: Post \"" + h.upstream.url() + "/\": EOF"));
}

TEST_CASE("http proxy: a refused connection is a 502", "[http_proxy]") {
  Harness h({});
  // A port that was just free: the scripted upstream's, once its listener is closed.
  std::string url = h.upstream.url();
  h.upstream.stop();
  h.loop.run();
  h.point_at(url);
  auto ex = h.serve_and_wait(make_request("GET", "/"));
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 502);
  CHECK(ex->body.empty());
  REQUIRE(ex->response_header("X-OpenFaaS-Internal"));
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "connect: connection refused"));
  CHECK(contains(log, "GET / - 502 Bad Gateway - ContentLength: 0B"));
}

TEST_CASE("http proxy: exec_timeout before the response headers is a 504", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd)}});
  h.config.exec_timeout = std::chrono::milliseconds(100);
  auto ex = h.serve_and_wait(make_request("GET", "/slow"));
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 504);
  REQUIRE(ex->response_header("X-OpenFaaS-Internal"));
  // The connection to the upstream is closed, not pooled.
  CHECK(h.pool->idle_count() == 0);
  h.loop.run_until([&] { return h.upstream.closed() == 1; });
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "Upstream HTTP killed due to exec_timeout: 100ms"));
  CHECK(contains(log, "GET /slow - 504 Gateway Timeout"));
}

TEST_CASE("http proxy: an upstream that dies after the head aborts the response", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"),
              close_connection()}});
  auto ex = h.serve_and_wait(make_request("GET", "/"));
  CHECK(ex->aborted);
  CHECK_FALSE(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->body == "partial");
  CHECK(h.pool->idle_count() == 0);
  h.finish();
  CHECK(contains(h.logged(), "Error copying response body: unexpected EOF"));
}

TEST_CASE("http proxy: a 101 becomes a tunnel both ways", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd),
              send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\n\r\nfrom-upstream"),
              wait_for("from-client"), send(" bye"), close_connection()}});
  auto ex =
      h.serve(make_request("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}));
  h.loop.run_until([&] { return ex->head.has_value() && ex->body == "from-upstream"; });
  CHECK(ex->head->status == 101);
  REQUIRE(ex->response_header("Upgrade"));
  CHECK(*ex->response_header("Upgrade") == "websocket");
  REQUIRE(ex->response_header("Connection"));
  CHECK(*ex->response_header("Connection") == "Upgrade");
  std::string got = h.upstream.received(0);
  CHECK(contains(got, "\r\nUpgrade: websocket\r\n"));

  ex->continue_body("from-client");
  h.loop.run_until([&] { return ex->done() && h.registry->empty(); });
  CHECK(ex->finished);
  CHECK(ex->body == "from-upstream bye");
  CHECK(h.upstream.received(0).substr(got.size()) == "from-client");
  CHECK(h.pool->idle_count() == 0);
  h.finish();
}

TEST_CASE("http proxy: a buffered POST is not retried either", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk), wait_for("payload"), close_connection()},
             {wait_for("payload"), send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain")}});
  h.config.http_buffer_req_body = true;
  h.serve_and_wait(make_request("GET", "/"));
  auto second = h.serve_and_wait(post("/put", 7), "payload");
  CHECK(second->head->status == 502); // a POST, even buffered, is not retried
  CHECK(h.upstream.accepted() == 1);
  h.finish();
}

TEST_CASE("http proxy: a buffered idempotent request is sent again whole on retry",
          "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk), wait_for("payload"), close_connection()},
             {wait_for("payload"), send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain")}});
  h.config.http_buffer_req_body = true;
  h.serve_and_wait(make_request("GET", "/"));
  Request put = post("/put", 7);
  put.method = "PUT";
  auto second = h.serve_and_wait(std::move(put), "payload", 3);
  REQUIRE(second->head);
  CHECK(second->head->status == 200);
  CHECK(second->body == "again");
  CHECK(h.upstream.accepted() == 2);
  std::string got = h.upstream.received(1);
  CHECK(got.rfind("PUT /put HTTP/1.1\r\n", 0) == 0);
  CHECK(contains(got, "\r\nContent-Length: 7\r\n"));
  CHECK(got.substr(got.find(kHeadEnd) + 4) == "payload");
  h.finish();
}

TEST_CASE("http proxy: an interim 100 is not relayed to a client that did not ask",
          "[http_proxy]") {
  Harness h(
      {{wait_for(kHeadEnd), send("HTTP/1.1 100 Continue\r\n\r\n"), wait_for("abc"), send(kOk)}});
  auto ex = h.serve_and_wait(post("/", 3), "abc");
  CHECK(ex->continues == 0);
  CHECK_FALSE(contains(h.upstream.received(0), "Expect"));
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 200);
  CHECK(ex->body == "ok");
  h.finish();
}

TEST_CASE("http proxy: a client's Expect: 100-continue goes upstream, and the upstream's 100 "
          "reaches the client",
          "[http_proxy][expect]") {
  Harness h(
      {{wait_for(kHeadEnd), send("HTTP/1.1 100 Continue\r\n\r\n"), wait_for("hello"), send(kOk)}});
  Request r = post("/", 5, {{"Expect", "100-continue"}});
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), std::move(r));
  ex->set_body("hello");
  ex->wait_for_continue();
  h.exchanges.push_back(ex);
  std::uint64_t started_ms = uv_now(h.loop.get());
  modes::HttpProxyExchange::start(h.context, *h.pool, ex, h.registry);
  h.loop.run_until([&] { return ex->done() && h.registry->empty(); });

  CHECK(ex->continue_deferred);
  CHECK(ex->continues == 1);
  // Relayed, not the watchdog's own go-ahead after its wait.
  CHECK(ex->continue_at_ms - started_ms < kContinueWaitMs);
  CHECK(ex->finished);
  CHECK(ex->body == "ok");
  std::string got = h.upstream.received(0);
  CHECK(contains(got, "\r\nExpect: 100-continue\r\n"));
  CHECK(contains(got, "\r\nContent-Length: 5\r\n"));
  CHECK(got.substr(got.find(kHeadEnd) + 4) == "hello");
  h.finish();
}

TEST_CASE("http proxy: an upstream's final answer to an expectation is relayed without a 100",
          "[http_proxy][expect]") {
  Harness h({{wait_for(kHeadEnd),
              send("HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 4\r\n\r\nbig!")}});
  Request r = chunked_post("/");
  r.headers.push_back({"Expect", "100-continue"});
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), std::move(r));
  ex->set_body(std::string(1000, 'x'));
  ex->wait_for_continue();
  h.exchanges.push_back(ex);
  modes::HttpProxyExchange::start(h.context, *h.pool, ex, h.registry);
  h.loop.run_until([&] { return ex->done() && h.registry->empty(); });

  CHECK(ex->continues == 0);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 413);
  CHECK(ex->body == "big!");
  CHECK(contains(h.upstream.received(0), "\r\nExpect: 100-continue\r\n"));
  // The request was never sent whole: its connection cannot carry another one.
  CHECK(h.pool->idle_count() == 0);
  h.finish();
}

TEST_CASE("http proxy: an upstream silent about the expectation gets the body after the wait",
          "[http_proxy][expect]") {
  Harness h({{wait_for("hello"), send(kOk)}});
  auto ex =
      std::make_shared<FakeExchange>(h.loop.get(), post("/", 5, {{"Expect", "100-continue"}}));
  ex->set_body("hello");
  ex->wait_for_continue();
  h.exchanges.push_back(ex);
  std::uint64_t started_ms = uv_now(h.loop.get());
  modes::HttpProxyExchange::start(h.context, *h.pool, ex, h.registry);
  h.loop.run_until([&] { return ex->done() && h.registry->empty(); });

  CHECK(ex->continues == 1);
  CHECK(ex->continue_at_ms - started_ms >= kContinueWaitMs);
  CHECK(ex->finished);
  CHECK(ex->body == "ok");
  h.finish();
}

TEST_CASE("http proxy: a buffered body leaves the expectation to the server",
          "[http_proxy][expect]") {
  Harness h({{wait_for("hello"), send(kOk)}});
  h.config.http_buffer_req_body = true;
  auto ex =
      std::make_shared<FakeExchange>(h.loop.get(), post("/", 5, {{"Expect", "100-continue"}}));
  ex->set_body("hello");
  ex->wait_for_continue();
  h.exchanges.push_back(ex);
  modes::HttpProxyExchange::start(h.context, *h.pool, ex, h.registry);
  h.loop.run_until([&] { return ex->done() && h.registry->empty(); });
  CHECK_FALSE(ex->continue_deferred);
  CHECK(ex->continues == 1); // at once, when the proxy started reading
  CHECK(ex->finished);
  CHECK_FALSE(contains(h.upstream.received(0), "Expect"));
  h.finish();
}

TEST_CASE("http proxy: HEAD and 204 responses have no body and keep the connection",
          "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"),
              wait_for(kHeadEnd), send("HTTP/1.1 204 No Content\r\n\r\n"), wait_for(kHeadEnd),
              send(kOk)}});
  auto head = h.serve_and_wait(make_request("HEAD", "/"));
  CHECK(head->finished);
  CHECK(head->head->status == 200);
  CHECK(head->head->content_length == 42u);
  CHECK(head->body.empty());
  auto empty = h.serve_and_wait(make_request("DELETE", "/"));
  CHECK(empty->finished);
  CHECK(empty->head->status == 204);
  CHECK(empty->body.empty());
  auto last = h.serve_and_wait(make_request("GET", "/"));
  CHECK(last->body == "ok");
  CHECK(h.upstream.accepted() == 1);
  h.finish();
}

TEST_CASE("http proxy: a slow client pauses the upstream and gets every byte", "[http_proxy]") {
  std::string big(2 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 23);
  Harness h({{wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nContent-Length: " +
                                       std::to_string(big.size()) + "\r\n\r\n" + big)}});
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), make_request("GET", "/big"));
  ex->set_slow_client(256 * 1024);
  h.exchanges.push_back(ex);
  modes::HttpProxyExchange::start(h.context, *h.pool, ex, h.registry);
  h.loop.run_until([&] { return ex->done() && h.registry->empty(); });
  CHECK(ex->finished);
  CHECK(ex->stops > 0);
  CHECK(ex->body.size() == big.size());
  CHECK(ex->body == big);
  CHECK(h.pool->idle_count() == 1);
  h.finish();
}

TEST_CASE("http proxy: a client that leaves closes the upstream connection", "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")}});
  auto ex = h.serve(make_request("GET", "/"));
  h.loop.run_until([&] { return ex->body == "half"; });
  ex->cancel(CancelReason::client_closed);
  h.loop.run_until([&] { return h.registry->empty() && h.upstream.closed() == 1; });
  CHECK(h.pool->idle_count() == 0);
  h.finish();
  CHECK(contains(h.logged(), "Upstream HTTP request error: Get \"" + h.upstream.url() +
                                 "/\": client disconnected"));
}

TEST_CASE("http proxy: a declared body over max_body_size is a 413 and nothing goes upstream",
          "[http_proxy]") {
  Harness h({{wait_for(kHeadEnd), send(kOk)}});
  h.config.max_body_size = 4;
  auto ex = h.serve_and_wait(post("/big", 5), "12345");
  CHECK(ex->finished);
  REQUIRE(ex->head);
  CHECK(ex->head->status == 413);
  REQUIRE(ex->response_header("X-OpenFaaS-Internal"));
  CHECK(ex->body == "Request body too large: the limit is 4 bytes");
  CHECK(h.pool->opened() == 0);
  // Exactly at the limit passes.
  auto at = h.serve_and_wait(post("/ok", 4), "1234");
  CHECK(at->head->status == 200);
  CHECK(h.upstream.accepted() == 1);
  h.finish();
  std::string log = h.logged();
  CHECK(contains(log, "Request body too large: the limit is 4 bytes\n"));
  CHECK(contains(log, "POST /big - 413 Request Entity Too Large - ContentLength: 44B"));
}

TEST_CASE("http proxy: a buffered chunked body is refused once it passes max_body_size",
          "[http_proxy]") {
  Harness h({{wait_for("0\r\n\r\n"), send(kOk)}});
  h.config.max_body_size = 8;
  h.config.http_buffer_req_body = true;
  auto ex = std::make_shared<FakeExchange>(h.loop.get(), chunked_post("/"));
  ex->set_body("0123456789", 3);
  ex->hold_body_open(); // the 413 must not wait for the end of the body
  h.exchanges.push_back(ex);
  modes::HttpProxyExchange::start(h.context, *h.pool, ex, h.registry);
  h.loop.run_until([&] { return ex->done() && h.registry->empty(); });
  REQUIRE(ex->head);
  CHECK(ex->head->status == 413);
  CHECK(h.pool->opened() == 0);

  // Streamed (not buffered), a chunked body is not limited.
  h.config.http_buffer_req_body = false;
  auto streamed = h.serve_and_wait(chunked_post("/"), "0123456789", 3);
  CHECK(streamed->head->status == 200);
  CHECK(contains(h.upstream.received(0), "0123456789") == false); // it went chunked
  CHECK(contains(h.upstream.received(0), "3\r\n012\r\n"));
  h.finish();
}
