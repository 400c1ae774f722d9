// WorkerPool through its public interface: jobs run on its threads, stop waits for them without
// blocking the loop, and what cannot be taken is refused cleanly.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "../modes/fake_exchange.hpp"
#include "../process/test_loop.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "work_bench.hpp"

namespace {

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::PoolBench;
using ofwatchdog::testing::TestLoop;

// A job that says it started and then holds its thread until released, ignoring cancellation
// the way guest code that does not call back would.
struct HeldJob {
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> ended{false};

  WorkJob job() {
    return [this](WorkContext&) {
      started.set_value();
      released.wait_for(std::chrono::seconds(20));
      ended = true;
    };
  }
};

// Counts the pool's thread starts or exits. Neither wakes the loop (the pool's keeper starts
// and joins threads), so a test waits for them here rather than by running the loop.
struct ThreadTally {
  std::mutex mutex;
  std::condition_variable changed;
  int exits = 0;

  void add() {
    std::lock_guard lock(mutex);
    ++exits;
    changed.notify_all();
  }
  int now() {
    std::lock_guard lock(mutex);
    return exits;
  }
  bool wait_for(int count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return exits >= count; });
  }
};

} // namespace

TEST_CASE("stop waits for a running job and calls done on the loop", "[work][pool]") {
  TestLoop loop;
  PoolBench bench(loop, {.threads = 1});
  auto& pool = bench.pool;
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
  HeldJob held;
  std::future<void> started = held.started.get_future();
  REQUIRE(pool->submit(exchange, held.job()));
  REQUIRE(started.wait_for(std::chrono::seconds(10)) == std::future_status::ready);

  bool stopped = false;
  bool ended_at_done = false;
  std::thread::id done_on;
  pool->stop([&] {
    stopped = true;
    ended_at_done = held.ended;
    done_on = std::this_thread::get_id();
  });
  // Stopping refuses new work at once.
  auto late = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/late"));
  CHECK_FALSE(pool->submit(late, [](WorkContext&) {}));
  CHECK_FALSE(late->done());
  // The loop goes on turning while the job holds its thread.
  for (int i = 0; i < 20; ++i)
    uv_run(loop.get(), UV_RUN_NOWAIT);
  CHECK_FALSE(stopped);

  held.release.set_value();
  loop.run_until([&] { return stopped; });
  CHECK(ended_at_done);
  CHECK(done_on == std::this_thread::get_id());
  // The job was cancelled by the stop before it had answered: the pool answered for it.
  REQUIRE(exchange->head);
  CHECK(exchange->head->status == 503);
  pool.reset();
  exchange->close();
  late->close();
}

TEST_CASE("a full queue refuses a job without touching its exchange", "[work][pool]") {
  TestLoop loop;
  PoolBench bench(loop, {.threads = 1, .queue_limit = 1});
  auto& pool = bench.pool;
  HeldJob held;
  std::future<void> started = held.started.get_future();
  auto first = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/1"));
  auto second = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/2"));
  auto third = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/3"));
  int outcomes = 0;
  auto count = [&](const WorkOutcome& o) {
    CHECK(o.kind == WorkOutcome::Kind::finished);
    ++outcomes;
  };
  REQUIRE(pool->submit(first, held.job(), count));
  REQUIRE(started.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  REQUIRE(pool->submit(
      second, [](WorkContext& work) { work.send_body("second"); }, count));
  CHECK_FALSE(pool->submit(
      third, [](WorkContext&) {}, count));
  CHECK_FALSE(third->done());

  held.release.set_value();
  loop.run_until([&] { return outcomes == 2; });
  CHECK(first->finished);
  CHECK(second->body == "second");
  bench.stop();
  for (auto* ex : {first.get(), second.get(), third.get()})
    ex->close();
}

TEST_CASE("a throwing job gets a 500 from the pool", "[work][pool]") {
  TestLoop loop;
  PoolBench bench(loop, {.threads = 2});
  auto& pool = bench.pool;
  auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("POST", "/"));
  exchange->set_body("ignored");
  REQUIRE(pool->submit(exchange, [](WorkContext&) { throw std::runtime_error("no module"); }));
  loop.run_until([&] { return exchange->done(); });
  REQUIRE(exchange->head);
  CHECK(exchange->head->status == 500);
  CHECK(exchange->body == "no module");
  bench.stop();
  exchange->close();
}

TEST_CASE("a request cancelled while it waits leaves the queue at once", "[work][pool]") {
  TestLoop loop;
  PoolBench bench(loop, {.threads = 1, .queue_limit = 4});
  auto& pool = bench.pool;
  HeldJob held;
  std::future<void> started = held.started.get_future();
  auto first = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/1"));
  auto waiting = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/2"));
  REQUIRE(pool->submit(first, held.job()));
  REQUIRE(started.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  std::optional<WorkOutcome> outcome;
  std::atomic<bool> ran{false};
  REQUIRE(pool->submit(
      waiting, [&](WorkContext&) { ran = true; }, [&](const WorkOutcome& o) { outcome = o; }));
  CHECK(pool->stats().queued == 1);

  // The only thread is still held: the outcome can only come from the queue giving it up.
  waiting->cancel(CancelReason::exec_timeout);
  loop.run_until([&] { return outcome.has_value(); });
  CHECK(outcome->kind == WorkOutcome::Kind::cancelled);
  CHECK(outcome->reason == CancelReason::exec_timeout);
  CHECK(pool->stats().queued == 0);
  CHECK(pool->stats().busy == 1);

  held.release.set_value();
  loop.run_until([&] { return first->done(); });
  bench.stop();
  CHECK_FALSE(ran);
  first->close();
  waiting->close();
}

TEST_CASE("the pool grows at once and shrinks as its threads become idle", "[work][pool]") {
  TestLoop loop;
  std::atomic<int> thread_starts{0};
  ThreadTally thread_exits;
  std::atomic<int> started_by_starter{0};
  PoolBench bench(loop, {.threads = 1,
                         .queue_limit = 16,
                         .on_thread_start = [&] { ++thread_starts; },
                         .on_thread_exit = [&] { thread_exits.add(); },
                         // The pool's threads can come from the caller (an engine's own).
                         .start_thread = [&](std::function<void()> body) -> std::function<void()> {
                           ++started_by_starter;
                           auto thread = std::make_shared<std::thread>(std::move(body));
                           return [thread] { thread->join(); };
                         }});
  auto& pool = bench.pool;
  // Three jobs held at once need three threads.
  pool->set_threads(3);
  CHECK(pool->stats().threads == 3);
  std::vector<std::unique_ptr<HeldJob>> held;
  std::vector<std::shared_ptr<FakeExchange>> exchanges;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<HeldJob>());
    exchanges.push_back(std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/")));
  }
  std::vector<std::future<void>> started;
  for (int i = 0; i < 3; ++i) {
    started.push_back(held[i]->started.get_future());
    REQUIRE(pool->submit(exchanges[i], held[i]->job()));
  }
  for (auto& s : started)
    REQUIRE(s.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(pool->stats().busy == 3);
  CHECK(thread_starts == 3);

  // Shrinking to one: no busy thread is taken away; two leave as their jobs end.
  pool->set_threads(1);
  CHECK(pool->stats().threads == 1);
  CHECK(pool->stats().busy == 3);
  CHECK(thread_exits.now() == 0);
  for (auto& h : held)
    h->release.set_value();
  REQUIRE(thread_exits.wait_for(2));
  // The one left still serves.
  auto after = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/after"));
  REQUIRE(pool->submit(after, [](WorkContext& work) { work.send_body("still here"); }));
  loop.run_until([&] { return after->done(); });
  CHECK(after->body == "still here");
  bench.stop();
  CHECK(thread_exits.now() == 3);
  CHECK(thread_starts == 3);
  CHECK(started_by_starter == 3);
  for (auto& ex : exchanges)
    ex->close();
  after->close();
}

TEST_CASE("spinning threads lose no job, and still shrink and stop", "[work][pool][spin]") {
  TestLoop loop;
  ThreadTally thread_exits;
  // A spin of 2 us ends while jobs arrive, so submits meet threads at every point of giving
  // up; one of a minute never ends by itself, so shrinking and stopping must end it.
  auto spin = GENERATE(std::chrono::microseconds(2), std::chrono::microseconds(60'000'000));
  INFO("spin " << spin.count() << " us");
  PoolBench bench(loop, {.threads = 2,
                         .queue_limit = 16,
                         .on_thread_exit = [&] { thread_exits.add(); },
                         .spin = spin});
  auto& pool = bench.pool;
  int ran = 0;
  std::vector<std::shared_ptr<FakeExchange>> exchanges;
  for (int i = 0; i < 2000; ++i) {
    auto exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/"));
    exchanges.push_back(exchange);
    REQUIRE(pool->submit(exchange, [](WorkContext& work) { work.send_body("x"); }));
    loop.run_until([&] { return exchange->done(); });
    ran += exchange->body == "x" ? 1 : 0;
  }
  CHECK(ran == 2000);
  if (spin.count() > 1000) {
    // Both threads spin now. A shrink wakes the extra one out of its spin.
    pool->set_threads(1);
    REQUIRE(thread_exits.wait_for(1));
  }
  auto started = std::chrono::steady_clock::now();
  bench.stop();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK(thread_exits.now() == 2);
  for (auto& exchange : exchanges)
    exchange->close();
}

TEST_CASE("a resize starts no thread on the loop, and a thread that cannot be made ends the growth",
          "[work][pool]") {
  TestLoop loop;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::atomic<int> started_on_loop{0};
  std::atomic<int> starts{0};
  PoolBench bench(loop, {.threads = 1,
                         .queue_limit = 16,
                         .start_thread = [&](std::function<void()> body) -> std::function<void()> {
                           if (std::this_thread::get_id() == loop_thread)
                             ++started_on_loop;
                           // The fourth thread finds the process out of threads.
                           if (++starts > 3)
                             throw std::system_error(
                                 std::make_error_code(std::errc::resource_unavailable_try_again),
                                 "no thread for you");
                           auto thread = std::make_shared<std::thread>(std::move(body));
                           return [thread] { thread->join(); };
                         }});
  auto& pool = bench.pool;
  pool->set_threads(1000);
  // Returned at once: the size is recorded, the threads come later.
  CHECK(pool->stats().threads == 1000);
  loop.run_until([&] { return pool->stats().threads == 3; });
  CHECK(started_on_loop == 0);
  CHECK(starts == 4);
  // And said in the log: the line's post is what woke the loop to see the lowered size.
  CHECK(testing::read_all(bench.file)
            .find("cannot start a thread (no thread for you: Resource temporarily unavailable); "
                  "the pool stays at 3 of the 1000 threads asked for") != std::string::npos);

  // The three threads it has serve three held jobs at once.
  std::vector<std::unique_ptr<HeldJob>> held;
  std::vector<std::shared_ptr<FakeExchange>> exchanges;
  std::vector<std::future<void>> started;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<HeldJob>());
    exchanges.push_back(std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/")));
    started.push_back(held[i]->started.get_future());
    REQUIRE(pool->submit(exchanges[i], held[i]->job()));
  }
  for (auto& s : started)
    REQUIRE(s.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(pool->stats().busy == 3);
  for (auto& h : held)
    h->release.set_value();
  loop.run_until([&] {
    for (auto& ex : exchanges)
      if (!ex->done())
        return false;
    return true;
  });
  bench.stop();
  CHECK(starts == 4);
  for (auto& ex : exchanges)
    ex->close();
}

TEST_CASE("a pool shrunk by hundreds retires its idle threads, and the rest serve",
          "[work][pool]") {
  TestLoop loop;
  ThreadTally starts;
  ThreadTally exits;
  PoolBench bench(loop, {.threads = 2,
                         .queue_limit = 16,
                         .on_thread_start = [&] { starts.add(); },
                         .on_thread_exit = [&] { exits.add(); }});
  auto& pool = bench.pool;
  pool->set_threads(300);
  REQUIRE(starts.wait_for(300));
  // Woken a few at a time by the keeper, every idle thread above the size leaves.
  pool->set_threads(2);
  REQUIRE(exits.wait_for(298));
  CHECK(pool->stats().threads == 2);
  // A job submitted now still finds a thread, and no more leave.
  auto after = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/after"));
  REQUIRE(pool->submit(after, [](WorkContext& work) { work.send_body("served"); }));
  loop.run_until([&] { return after->done(); });
  CHECK(after->body == "served");
  CHECK(exits.now() == 298);
  bench.stop();
  CHECK(exits.now() == 300);
  after->close();
}

TEST_CASE("a plain task runs on a worker and its done on the loop", "[work][pool]") {
  TestLoop loop;
  PoolBench bench(loop, {.threads = 1});
  std::thread::id ran_on;
  bool done = false;
  std::uint64_t number =
      bench.pool->run([&] { ran_on = std::this_thread::get_id(); }, [&] { done = true; });
  CHECK(number != 0);
  loop.run_until([&] { return done; });
  CHECK(ran_on != std::this_thread::get_id());
  bench.stop();
}

TEST_CASE("a plain task withdrawn from the queue never runs and its done comes later",
          "[work][pool]") {
  TestLoop loop;
  PoolBench bench(loop, {.threads = 1});
  HeldJob held;
  bool first_done = false;
  bench.pool->run(
      [&] {
        held.started.set_value();
        held.released.wait_for(std::chrono::seconds(20));
      },
      [&] { first_done = true; });
  held.started.get_future().wait();
  std::atomic<bool> second_ran{false};
  bool second_done = false;
  std::uint64_t second = bench.pool->run([&] { second_ran = true; }, [&] { second_done = true; });
  CHECK(bench.pool->stats().queued == 1);
  CHECK(bench.pool->withdraw(second));
  CHECK_FALSE(second_done); // not inside the call
  CHECK(bench.pool->stats().queued == 0);
  CHECK_FALSE(bench.pool->withdraw(second));
  loop.run_until([&] { return second_done; });
  held.release.set_value();
  loop.run_until([&] { return first_done; });
  CHECK_FALSE(second_ran);
  bench.stop();
}

TEST_CASE("a full queue refuses a plain task, and stop waits for every done", "[work][pool]") {
  TestLoop loop;
  PoolBench bench(loop, {.threads = 1, .queue_limit = 1});
  HeldJob held;
  int done = 0;
  bench.pool->run(
      [&] {
        held.started.set_value();
        held.released.wait_for(std::chrono::seconds(20));
      },
      [&] { ++done; });
  held.started.get_future().wait();
  CHECK(bench.pool->run([] {}, [&] { ++done; }) != 0);
  CHECK(bench.pool->run([] {}, [&] { ++done; }) == 0);
  bool stopped = false;
  bench.pool->stop([&] {
    CHECK(done == 2);
    stopped = true;
  });
  CHECK(bench.pool->run([] {}, [] {}) == 0);
  held.release.set_value();
  loop.run_until([&] { return stopped; });
  bench.pool.reset();
}
