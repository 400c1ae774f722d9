// Running modules: outcomes, traps, the memory cap and interruption on both engines; for the
// compiled one also slot reuse without growth, workers side by side, and faults that are not
// the guest's still killing the process.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "unit/wasm/wasm_test_support.hpp"

using namespace ofwatchdog::wasm;
using namespace ofwatchdog::wasm::testing;
using Kind = RunOutcome::Kind;

namespace {

int mapping_count() {
  std::ifstream maps("/proc/self/maps");
  int lines = 0;
  for (std::string line; std::getline(maps, line);) {
    ++lines;
  }
  return lines;
}

} // namespace

// The tests that take `engine` from GENERATE hold for both engines alike (wasm-engines).

TEST_CASE("echo copies stdin to stdout through the host", "[wasm][interp][run]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  INFO(engine_name(engine));
  FakeHost host;
  host.input = "hello, wasm\n" + std::string(100000, 'x');
  RunOutcome outcome = run_once(engine, "echo", host);
  CHECK(outcome.succeeded());
  CHECK(outcome.error_text().empty());
  CHECK(host.output == host.input);
}

TEST_CASE("proc_exit(3) ends the run with exit status 3", "[wasm][interp][run]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  INFO(engine_name(engine));
  FakeHost host;
  RunOutcome outcome = run_once(engine, "exit_status", host);
  CHECK(outcome.kind == Kind::exited);
  CHECK(outcome.exit_code == 3);
  CHECK(outcome.error_text() == "exit status 3");
}

TEST_CASE("each trap kind is reported with its W5 text", "[wasm][interp][run][trap]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  auto [fixture, text] = GENERATE(table<std::string, std::string>({
      {"unreachable", "unreachable"},
      {"oob_load", "out of bounds memory access"},
      {"oob_far", "out of bounds memory access"},
      {"div_zero", "integer divide by zero"},
      {"int_overflow", "integer overflow"},
      {"invalid_conversion", "invalid conversion to integer"},
      {"stack_exhaustion", "call stack exhausted"},
      {"indirect_mismatch", "indirect call type mismatch"},
      {"indirect_null", "undefined element"},
      {"indirect_out_of_range", "out of bounds table access"},
  }));
  INFO(engine_name(engine) << " " << fixture);
  FakeHost host;
  RunOutcome outcome = run_once(engine, fixture, host);
  CHECK(outcome.kind == Kind::trapped);
  CHECK(outcome.error_text() == "wasm trap: " + text);
}

TEST_CASE("W8: memory.grow past the cap returns -1 in the guest", "[wasm][interp][run][memory]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  INFO(engine_name(engine));
  auto results = [engine](std::uint64_t cap) {
    FakeHost host;
    RunOutcome outcome = run_once(engine, "grow_memory", host, {.max_memory_bytes = cap});
    CHECK(outcome.succeeded());
    REQUIRE(host.output.size() == 8);
    std::int32_t values[2];
    std::memcpy(values, host.output.data(), 8);
    return std::pair{values[0], values[1]};
  };
  // 2 MiB = 32 pages: 1 + 100 is too many, 1 + 1 fits.
  CHECK(results(2u << 20) == std::pair{-1, 1});
  CHECK(results(256u << 20) == std::pair{1, 101});
  // An initial memory above the cap cannot be instantiated.
  FakeHost host;
  RunOutcome outcome = run_once(engine, "echo", host, {.max_memory_bytes = 65536});
  CHECK(outcome.kind == Kind::trapped);
  CHECK(outcome.trap == TrapKind::memory_limit);
}

TEST_CASE("W6: an endless loop is interrupted from another thread and the slot is reused",
          "[wasm][interp][run][interrupt]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  INFO(engine_name(engine));
  RunControl control;
  std::promise<RunOutcome> looped;
  std::promise<RunOutcome> echoed;
  std::atomic<bool> go_on{false};
  FakeHost echo_host;
  echo_host.input = "after the interruption";
  GuestThread worker([&] {
    EngineRunner runner(engine);
    FakeHost host;
    looped.set_value(runner.run("infinite_loop", host, {}, &control));
    while (!go_on) {
      std::this_thread::yield();
    }
    echoed.set_value(runner.run("echo", echo_host, {}));
  });
  auto looped_result = looped.get_future();
  CHECK(looped_result.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);
  auto asked = std::chrono::steady_clock::now();
  control.interrupt();
  REQUIRE(looped_result.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  double waited_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - asked).count();
  WARN(engine_name(engine) << ": interruption took " << waited_us << " us");
  CHECK(looped_result.get().kind == Kind::interrupted);
  go_on = true;
  auto echoed_result = echoed.get_future();
  REQUIRE(echoed_result.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(echoed_result.get().succeeded());
  CHECK(echo_host.output == "after the interruption");
  worker.join();
  // Late interrupts of a finished run touch nothing.
  control.interrupt();
}

TEST_CASE("W6: an interruption during a blocked host call unwinds when the host returns",
          "[wasm][interp][run][interrupt]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  INFO(engine_name(engine));
  RunControl control;
  FakeHost host;
  host.block_reads = true;
  RunOutcome outcome;
  RunOutcome again;
  FakeHost second;
  second.input = "still fine";
  GuestThread worker([&] {
    EngineRunner runner(engine);
    outcome = runner.run("echo", host, {}, &control);
    again = runner.run("echo", second, {});
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!host.blocked && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(host.blocked);
  // The signal arrives while the worker is in the host: it must not jump out of it.
  control.interrupt();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  host.cancel(); // what the request's cancellation does to a real host
  worker.join();
  CHECK(outcome.kind == Kind::interrupted);
  CHECK(again.succeeded());
  CHECK(second.output == "still fine");
}

TEST_CASE("W6: an interruption requested before the run starts stops it at once",
          "[wasm][interp][run][interrupt]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  INFO(engine_name(engine));
  RunControl control;
  control.interrupt();
  FakeHost host;
  RunOutcome outcome;
  on_guest_thread([&] {
    EngineRunner runner(engine);
    outcome = runner.run("infinite_loop", host, {}, &control);
  });
  CHECK(outcome.kind == Kind::interrupted);
}

TEST_CASE("W6: an interruption requested during a host call that returns is seen at once",
          "[wasm][interp][run][interrupt]") {
  Engine engine = GENERATE(Engine::aot, Engine::interpreter);
  INFO(engine_name(engine));
  RunControl control;
  FakeHost host;
  host.input = "some input";
  host.on_write = [&] { control.interrupt(); };
  RunOutcome outcome;
  on_guest_thread([&] {
    EngineRunner runner(engine);
    outcome = runner.run("echo", host, {}, &control);
  });
  CHECK(outcome.kind == Kind::interrupted);
}

TEST_CASE("10,000 runs on one slot grow neither mappings nor resident memory",
          "[wasm][run][reuse]") {
  const CompiledModule& echo = compiled("echo");
  const CompiledModule& grow = compiled("grow_memory");
  int maps_before = 0, maps_after = 0;
  long rss_before = 0, rss_after = 0;
  double per_request_us = 0;
  bool all_ok = true;
  on_guest_thread([&] {
    InstanceRunner runner;
    auto one = [&](const CompiledModule& module) {
      FakeHost host;
      host.input = "ping";
      RunOutcome outcome = runner.run(module, host, {});
      all_ok = all_ok && outcome.succeeded();
    };
    for (int i = 0; i < 100; ++i) {
      one(echo);
      one(grow);
    }
    maps_before = mapping_count();
    rss_before = resident_kib();
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 10000; ++i) {
      one(echo);
    }
    per_request_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
            .count() /
        10000;
    for (int i = 0; i < 100; ++i) {
      one(grow); // a larger memory, then a smaller one again
      one(echo);
    }
    maps_after = mapping_count();
    rss_after = resident_kib();
  });
  WARN("echo instantiate + run + reset: " << per_request_us << " us per request");
  CHECK(all_ok);
  CHECK(maps_after <= maps_before);
  CHECK(rss_after - rss_before < 8 * 1024);
}

TEST_CASE("two workers trap independently at the same time", "[wasm][run][trap]") {
  const CompiledModule& oob = compiled("oob_load");
  const CompiledModule& deep = compiled("stack_exhaustion");
  const CompiledModule& echo = compiled("echo");
  std::atomic<int> wrong{0};
  auto worker_body = [&](const CompiledModule& trapping, TrapKind expected) {
    return [&, expected] {
      InstanceRunner runner;
      for (int i = 0; i < 200; ++i) {
        FakeHost host;
        RunOutcome outcome = runner.run(trapping, host, {});
        if (outcome.kind != Kind::trapped || outcome.trap != expected) {
          ++wrong;
        }
        FakeHost echo_host;
        // push_back, not `= "x"`: GCC 12 at -O3 reports a false -Wrestrict overlap for the
        // inlined assignment of a literal to an empty string here.
        echo_host.input.push_back('x');
        if (!runner.run(echo, echo_host, {}).succeeded() || echo_host.output != "x") {
          ++wrong;
        }
      }
    };
  };
  GuestThread first(worker_body(oob, TrapKind::out_of_bounds_memory));
  GuestThread second(worker_body(deep, TrapKind::call_stack_exhausted));
  first.join();
  second.join();
  CHECK(wrong == 0);
}

TEST_CASE("a fault outside guest code still kills the process with SIGSEGV",
          "[wasm][run][signals]") {
#ifdef OFW_SANITIZED
  // The sanitizers catch the null store first (UBSan reports and exits, ASan's SEGV handler
  // reports and exits), so the child never dies of the signal: what is checked here is the
  // plain build's behaviour.
  WARN("skipped under the sanitizers, which handle SIGSEGV themselves");
  return;
#endif
  const CompiledModule& echo = compiled("echo");
  auto dies_of_segv = [&](bool inside_host_call) {
    fflush(nullptr);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The default action behind ours, as in the watchdog (not the test framework's
      // reporting handler): the child must die of the signal itself.
      signal(SIGSEGV, SIG_DFL);
      GuestThread worker([&] {
        if (inside_host_call) {
          // A host bug while a guest runs: in the watchdog's code, not the guest's.
          InstanceRunner runner;
          FakeHost host;
          host.input = "x";
          host.on_write = [] { *static_cast<volatile int*>(nullptr) = 1; };
          runner.run(echo, host, {});
        } else {
          *static_cast<volatile int*>(nullptr) = 1;
        }
      });
      worker.join();
      _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
  };
  CHECK(dies_of_segv(false));
  CHECK(dies_of_segv(true));
}

TEST_CASE("a module with much data runs from a copy-on-write image, fresh every run",
          "[wasm][run][image]") {
  const CompiledModule& big = compiled("big_image");
  const CompiledModule& small = compiled("big_data"); // 4 MiB, read whole: also an image
  const CompiledModule& echo = compiled("echo");      // no data to speak of: copied
  REQUIRE(big.image() != nullptr);
  CHECK(big.image()->bytes() >= (16u << 20));
  CHECK(echo.image() == nullptr);
  const std::string markers("\x11\x22\x5a\x33", 4);
  bool all_ok = true;
  int maps_before = 0, maps_after = 0;
  double per_run_us = 0;
  on_guest_thread([&] {
    InstanceRunner runner;
    auto run = [&](const CompiledModule& module, const std::string& input) {
      FakeHost host;
      host.input = input;
      RunOutcome outcome = runner.run(module, host, {});
      all_ok = all_ok && outcome.succeeded();
      return host.output;
    };
    // Each run wrote over the markers; the next one reads the image again.
    for (int i = 0; i < 3; ++i)
      all_ok = all_ok && run(big, "") == markers;
    CHECK(runner.slot()->image_id() == big.image()->id());
    // Another module on the same slot: its own image, then none, then back.
    CHECK(run(small, "").substr(0, 4) == std::string("\x11\x22\x5a\x33", 4));
    CHECK(runner.slot()->image_id() == small.image()->id());
    CHECK(run(echo, "after an image") == "after an image");
    CHECK(runner.slot()->image_id() == 0);
    all_ok = all_ok && run(big, "") == markers;
    maps_before = mapping_count();
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i)
      all_ok = all_ok && run(big, "") == markers;
    per_run_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
            .count() /
        1000;
    maps_after = mapping_count();
  });
  WARN("16 MiB image: instantiate + run + reset " << per_run_us << " us per run");
  CHECK(all_ok);
  CHECK(maps_after <= maps_before);
}

TEST_CASE("a runner reserves its slot on first need; a process short of addresses is told why",
          "[wasm][run][slot]") {
  InstanceRunner idle;
  CHECK(idle.slot() == nullptr); // a worker that never runs holds no 8 GiB of addresses
  std::string error;
  REQUIRE(idle.reserve_slot(error));
  REQUIRE(idle.slot() != nullptr);
  const MemorySlot* first = idle.slot();
  REQUIRE(idle.reserve_slot(error));
  CHECK(idle.slot() == first); // reserved once

#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer's allocator does not work under an address space limit.
  SUCCEED("not under the address sanitizer");
#else
  // Under a ulimit -v that leaves 1 GiB: neither a slot nor a thread with a 2 GiB stack can
  // be had, and each says so instead of aborting. In a child, so the limit stays there.
  fflush(nullptr);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::ifstream status("/proc/self/status");
    unsigned long long vm_kib = 0;
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmSize:", 0) == 0)
        vm_kib = std::stoull(line.substr(7));
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = (vm_kib << 10) + (1ull << 30);
    if (vm_kib == 0 || setrlimit(RLIMIT_AS, &limit) != 0)
      _exit(2);
    InstanceRunner runner;
    std::string slot_error;
    bool slot_refused = !runner.reserve_slot(slot_error) && runner.slot() == nullptr &&
                        slot_error.find("cannot reserve") != std::string::npos;
    std::string thread_error;
    auto thread = GuestThread::start([] {}, thread_error, {.stack_bytes = 2ull << 30});
    bool thread_refused =
        thread == nullptr && thread_error.find("cannot start a guest thread: mmap") == 0;
    _exit(slot_refused && thread_refused ? 0 : 1);
  }
  int status = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  pid_t reaped = 0;
  while ((reaped = waitpid(child, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  if (reaped == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
#endif
}
