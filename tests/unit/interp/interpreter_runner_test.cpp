// What only the interpreter engine needs shown: its data segments give the same memory as the
// compiled engine's image, and one runner serves many runs without growing. The outcomes, traps,
// memory cap and interruptions both engines share are in ../wasm/instance_runner_test.cpp.
#include <catch2/catch.hpp>

#include <chrono>

#include "interp/interpreter_runner.hpp"
#include "unit/wasm/wasm_test_support.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::wasm::testing;
using interp::InterpreterRunner;
using wasm::RunOutcome;
using Kind = RunOutcome::Kind;

TEST_CASE("interpreter: a module's data segments are its memory, fresh every run",
          "[interp][run]") {
  FakeHost compiled_host;
  REQUIRE(run_once(Engine::aot, "big_data", compiled_host).succeeded());
  InterpreterRunner runner;
  for (int i = 0; i < 3; ++i) {
    FakeHost host;
    CHECK(runner.run(interpreted("big_data"), host, {}).succeeded());
    CHECK(host.output == compiled_host.output);
  }
}

TEST_CASE("interpreter: 2,000 runs on one runner do not grow resident memory", "[interp][reuse]") {
  InterpreterRunner runner;
  auto run_many = [&](int count) {
    for (int i = 0; i < count; ++i) {
      FakeHost host;
      // push_back, not `= "x"`: GCC 12 at -O3 reports a false -Wrestrict overlap for the
      // inlined assignment of a literal to an empty string here.
      host.input.push_back('x');
      REQUIRE(runner.run(interpreted("echo"), host, {}).succeeded());
      FakeHost trapping;
      REQUIRE(runner.run(interpreted("oob_load"), trapping, {}).kind == Kind::trapped);
    }
  };
  run_many(200); // warm up the allocator
  long before = resident_kib();
  auto started = std::chrono::steady_clock::now();
  run_many(1000);
  double per_run_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
          .count() /
      2000;
  long after = resident_kib();
  WARN("interpreter: " << per_run_us << " us per instantiate + run; RSS " << before << " -> "
                       << after << " KiB");
#ifndef OFW_SANITIZED
  CHECK(after - before < 2048);
#endif
}
