// Log lines written on workers arrive on the loop, in each request's order.
#include <catch2/catch.hpp>

#include <latch>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../modes/fake_exchange.hpp"
#include "../process/test_loop.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "work_bench.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::PoolBench;
using ofwatchdog::testing::read_all;
using ofwatchdog::testing::TestLoop;

TEST_CASE("log lines from two workers keep each request's order", "[work][log]") {
  constexpr int kLines = 2000;
  TestLoop loop;
  PoolBench bench(loop, {.threads = 2});
  auto& pool = bench.pool;
  std::latch both_running(2);
  auto job = [&](std::string name) {
    return [&, name](WorkContext& work) {
      // Both jobs log at the same time, so their lines interleave on the loop.
      both_running.arrive_and_wait();
      for (int i = 0; i < kLines; ++i) {
        if (i % 2 == 0)
          work.log(name + " " + std::to_string(i));
        else
          work.relay("stderr", name + " " + std::to_string(i));
      }
    };
  };
  auto a = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/a"));
  auto b = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/b"));
  REQUIRE(pool->submit(a, job("req-a")));
  REQUIRE(pool->submit(b, job("req-b")));
  loop.run_until([&] { return a->done() && b->done(); });
  bench.stop();

  std::map<std::string, std::vector<int>> seen;
  std::istringstream lines(read_all(bench.file));
  for (std::string line; std::getline(lines, line);) {
    std::size_t at = line.find("req-");
    REQUIRE(at != std::string::npos);
    std::istringstream fields(line.substr(at));
    std::string name;
    int index = -1;
    fields >> name >> index;
    seen[name].push_back(index);
  }
  for (const char* name : {"req-a", "req-b"}) {
    std::vector<int> expected(kLines);
    for (int i = 0; i < kLines; ++i)
      expected[i] = i;
    CHECK(seen[name] == expected);
  }
  a->close();
  b->close();
}
