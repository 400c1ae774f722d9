// UpstreamPool and UpstreamConnection on a real loop against a scripted loopback upstream:
// which connections are kept, handed out, timed out and closed.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "../process/test_loop.hpp"
#include "scripted_upstream.hpp"
#include "upstream/upstream_pool.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::upstream;
using ofwatchdog::testing::close_connection;
using ofwatchdog::testing::Script;
using ofwatchdog::testing::ScriptedUpstream;
using ofwatchdog::testing::send;
using ofwatchdog::testing::TestLoop;
using ofwatchdog::testing::wait_for;

namespace {

const std::string kGet = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// Records what a connection reports.
struct Recorder : UpstreamConnection::Listener {
  void on_connected(const std::string& e) override {
    connected = true;
    error = e;
  }
  void on_response_head(UpstreamResponse& response) override { status = response.status; }
  void on_response_body(std::string_view data) override { body.append(data); }
  void on_response_end() override { ended = true; }
  void on_failure(const std::string& cause) override { failure = cause; }
  void on_write_drained() override {}

  bool connected = false;
  std::string error;
  int status = 0;
  std::string body;
  bool ended = false;
  std::string failure;
};

struct Harness {
  Harness(std::vector<Script> scripts, Duration idle, std::size_t max_idle)
      : upstream(loop.get(), std::move(scripts)),
        pool(loop.get(), *parse_upstream_url(upstream.url()), idle, max_idle) {}

  // Opens a connection and sends one GET on it; returns once the response has ended.
  UpstreamConnection* exchange(Recorder& r) {
    UpstreamConnection* c = pool.open(&r);
    loop.run_until([&] { return r.connected; });
    REQUIRE(r.error.empty());
    c->begin(&r, "GET", kGet);
    loop.run_until([&] { return r.ended || !r.failure.empty(); });
    return c;
  }

  void finish() {
    pool.shut_down();
    upstream.stop();
    loop.run();
  }

  TestLoop loop;
  ScriptedUpstream upstream;
  UpstreamPool pool;
};

Script one_response() {
  return {wait_for("\r\n\r\n"), send(kOk)};
}

} // namespace

TEST_CASE("upstream pool: a reusable connection waits idle and is handed out again", "[upstream]") {
  Harness h({{wait_for("\r\n\r\n"), send(kOk), wait_for("\r\n\r\n"), send(kOk)}},
            std::chrono::seconds(30), 4);
  Recorder first;
  UpstreamConnection* c = h.exchange(first);
  CHECK(first.status == 200);
  CHECK(first.body == "ok");
  CHECK(c->reusable());
  h.pool.give_back(c);
  CHECK(h.pool.idle_count() == 1);

  UpstreamConnection* again = h.pool.take_idle();
  CHECK(again == c);
  CHECK(h.pool.idle_count() == 0);
  CHECK(h.pool.take_idle() == nullptr);
  Recorder second;
  again->begin(&second, "GET", kGet);
  h.loop.run_until([&] { return second.ended; });
  CHECK(second.body == "ok");
  CHECK(again->requests() == 2);
  h.pool.give_back(again);
  CHECK(h.upstream.accepted() == 1);
  h.finish();
}

TEST_CASE("upstream pool: a connection that cannot carry another request is closed", "[upstream]") {
  Harness h({{wait_for("\r\n\r\n"), send("HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                         "Content-Length: 2\r\n\r\nok")}},
            std::chrono::seconds(30), 4);
  Recorder r;
  UpstreamConnection* c = h.exchange(r);
  CHECK(r.body == "ok");
  CHECK_FALSE(c->reusable());
  h.pool.give_back(c);
  CHECK(h.pool.idle_count() == 0);
  h.loop.run_until([&] { return h.upstream.closed() == 1; });
  h.finish();
}

TEST_CASE("upstream pool: idle connections time out, and the upstream closing one is noticed",
          "[upstream]") {
  Harness h({one_response(), {wait_for("\r\n\r\n"), send(kOk), close_connection()}},
            std::chrono::milliseconds(50), 4);
  Recorder a, b;
  UpstreamConnection* first = h.exchange(a);
  UpstreamConnection* second = h.exchange(b);
  h.pool.give_back(first);
  h.pool.give_back(second);
  // The second is closed by the upstream at once; the first lasts its 50 ms.
  h.loop.run_until([&] { return h.upstream.closed() == 1; });
  h.loop.run_until([&] { return h.pool.idle_count() == 1; });
  h.loop.run_until([&] { return h.pool.idle_count() == 0 && h.upstream.closed() == 2; });
  h.finish();
}

TEST_CASE("upstream pool: a connection given back again is kept for the whole idle time from then",
          "[upstream]") {
  // The idle timer is not moved when a connection is reused; when the first deadline passes it
  // must notice the later one and wait for it.
  constexpr std::uint64_t kIdleMs = 200;
  Harness h({one_response()}, std::chrono::milliseconds(kIdleMs), 4);
  Recorder a;
  UpstreamConnection* c = h.exchange(a);
  h.pool.give_back(c);
  REQUIRE(h.pool.take_idle() == c);
  // Half the idle time in use, then back in the pool.
  uv_timer_t pause;
  uv_timer_init(h.loop.get(), &pause);
  bool paused = false;
  pause.data = &paused;
  uv_timer_start(
      &pause, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, kIdleMs / 2, 0);
  h.loop.run_until([&] { return paused; });
  uv_close(reinterpret_cast<uv_handle_t*>(&pause), nullptr);
  uv_update_time(h.loop.get());
  std::uint64_t given_back = uv_now(h.loop.get());
  h.pool.give_back(c);
  h.loop.run_until([&] { return h.pool.idle_count() == 0; });
  CHECK(uv_now(h.loop.get()) - given_back >= kIdleMs);
  h.finish();
}

TEST_CASE("upstream pool: past max_idle the oldest idle connection makes room", "[upstream]") {
  Harness h({one_response(), one_response()}, std::chrono::seconds(30), 1);
  Recorder a, b;
  UpstreamConnection* older = h.exchange(a);
  UpstreamConnection* newer = h.exchange(b);
  h.pool.give_back(older);
  h.pool.give_back(newer);
  CHECK(h.pool.idle_count() == 1);
  CHECK(h.pool.take_idle() == newer);
  newer->close();
  h.loop.run_until([&] { return h.upstream.closed() == 2; });
  h.finish();
}

TEST_CASE("upstream pool: the most recently used connection is handed out first", "[upstream]") {
  Harness h({one_response(), one_response()}, std::chrono::seconds(30), 4);
  Recorder a, b;
  UpstreamConnection* older = h.exchange(a);
  UpstreamConnection* newer = h.exchange(b);
  h.pool.give_back(older);
  h.pool.give_back(newer);
  CHECK(h.pool.take_idle() == newer);
  CHECK(h.pool.take_idle() == older);
  newer->close();
  older->close();
  h.finish();
}

TEST_CASE("upstream pool: after shut_down nothing is kept", "[upstream]") {
  Harness h({one_response(), one_response()}, std::chrono::seconds(30), 4);
  Recorder a, b;
  UpstreamConnection* first = h.exchange(a);
  UpstreamConnection* second = h.exchange(b);
  h.pool.give_back(first);
  h.pool.shut_down();
  CHECK(h.pool.idle_count() == 0);
  h.pool.give_back(second);
  CHECK(h.pool.idle_count() == 0);
  h.loop.run_until([&] { return h.upstream.closed() == 2; });
  h.finish();
}

TEST_CASE("upstream connection: a refused connect is reported from a callback", "[upstream]") {
  TestLoop loop;
  int port = 0;
  {
    ScriptedUpstream gone(loop.get(), {});
    port = gone.port;
    gone.stop();
    loop.run();
  }
  UpstreamPool pool(loop.get(), *parse_upstream_url("http://127.0.0.1:" + std::to_string(port)),
                    std::chrono::seconds(1), 4);
  Recorder r;
  UpstreamConnection* c = pool.open(&r);
  CHECK_FALSE(r.connected); // never from inside open
  loop.run_until([&] { return r.connected; });
  CHECK(r.error == "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
  c->close();
  loop.run();
}

TEST_CASE("upstream connection: an EOF before the response head is a failure", "[upstream]") {
  Harness h({{wait_for("\r\n\r\n"), close_connection()},
             {wait_for("\r\n\r\n"), send("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"),
              close_connection()}},
            std::chrono::seconds(30), 4);
  Recorder early, late;
  UpstreamConnection* a = h.exchange(early);
  CHECK(early.failure == "EOF");
  CHECK_FALSE(a->response_started());
  a->close();
  UpstreamConnection* b = h.exchange(late);
  CHECK(late.status == 200);
  CHECK(late.failure == "unexpected EOF");
  CHECK(b->response_started());
  b->close();
  h.finish();
}

TEST_CASE("upstream connection: a head held for its body leaves with the body's first piece",
          "[upstream]") {
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
  const std::string again = "GET /again HTTP/1.1\r\nHost: x\r\n\r\n";
  Harness h({{wait_for("hello"), send(kOk), wait_for(again), send(kOk)}, one_response()},
            std::chrono::seconds(30), 4);
  Recorder r;
  UpstreamConnection* c = h.pool.open(&r);
  h.loop.run_until([&] { return r.connected; });
  REQUIRE(r.error.empty());
  c->begin(&r, "POST", post, UpstreamConnection::HeadTiming::with_first_body);
  // A whole exchange on a second connection: a head written to the first would have been
  // delivered on loopback, and read by the upstream, long before this one ends.
  Recorder probe;
  UpstreamConnection* other = h.exchange(probe);
  CHECK(probe.status == 200);
  CHECK(h.upstream.received(0).empty());

  c->write("hello");
  c->set_request_complete(true);
  h.loop.run_until([&] { return r.ended || !r.failure.empty(); });
  CHECK(r.status == 200);
  CHECK(h.upstream.received(0) == post + "hello");

  // No body after all: completing the request sends the held head alone.
  REQUIRE(c->reusable());
  h.pool.give_back(c);
  REQUIRE(h.pool.take_idle() == c);
  Recorder second;
  c->begin(&second, "GET", again, UpstreamConnection::HeadTiming::with_first_body);
  c->set_request_complete(true);
  h.loop.run_until([&] { return second.ended || !second.failure.empty(); });
  CHECK(second.status == 200);
  CHECK(h.upstream.received(0) == post + "hello" + again);
  h.pool.give_back(c);
  h.pool.give_back(other);
  h.finish();
}
