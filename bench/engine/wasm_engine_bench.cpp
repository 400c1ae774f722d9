// The wasm engine on its own, for the bench's wasm group: what a request costs on a worker
// once the watchdog's loop and channels are taken away, and what an idle instance slot keeps.
//
//   wasm-engine-bench MODULE.wasm CACHE_DIR [RUNS] [SLOTS]
//
// 1. One guest thread runs the module RUNS times (default 20,000) with the real WASI host over
//    a real sandbox, a 1 KiB stdin and a stdout that discards: instantiate + run + reset, as a
//    worker does per request. It prints the median of 20 batches as `run_us`.
// 2. SLOTS guest threads (default 16) each run the module once and then wait, idle, as the
//    workers of an idle pool do. The growth of the process's anonymous resident memory, per
//    slot, is `slot_kib`; `module_memory_kib` is the module's initial linear memory, which a
//    slot keeps resident after its reset (below the reset threshold), so the slot's own cost is
//    the difference (`beyond_module_kib`).
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "wasi/host.hpp"
#include "wasi/sandbox.hpp"
#include "wasi/stdio.hpp"
#include "wasm/compile_module.hpp"
#include "wasm/compiled_module.hpp"
#include "wasm/guest_thread.hpp"
#include "wasm/instance_runner.hpp"
#include "wasm/module_check.hpp"

namespace {

using namespace ofwatchdog;

// stdin from a string, stdout and stderr discarded; nothing ever waits.
class MemoryStdio final : public wasi::Stdio {
public:
  explicit MemoryStdio(const std::string& input) : input_(input) {}
  ReadResult read_stdin(std::span<std::uint8_t> buffer) override {
    if (at_ == input_.size())
      return {Status::end, 0};
    std::size_t n = std::min(buffer.size(), input_.size() - at_);
    std::copy_n(input_.data() + at_, n, buffer.data());
    at_ += n;
    return {Status::ok, n};
  }
  bool stdin_ready() override { return true; }
  Status write_stdout(std::span<const std::uint8_t> bytes) override {
    written_ += bytes.size();
    return Status::ok;
  }
  Status write_stderr(std::span<const std::uint8_t>) override { return Status::ok; }
  WaitResult wait(bool, Deadline) override { return WaitResult::stdin_ready; }
  std::size_t written() const { return written_; }

private:
  const std::string& input_;
  std::size_t at_ = 0;
  std::size_t written_ = 0;
};

long anonymous_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("RssAnon:", 0) == 0)
      return std::stol(line.substr(8));
  return -1;
}

// One instance slot: the runner (memory and instance) and a sandbox of its own.
struct Slot {
  wasm::InstanceRunner runner;
  std::unique_ptr<wasi::Sandbox> sandbox;
};

std::unique_ptr<Slot> make_slot(const std::string& scratch) {
  auto slot = std::make_unique<Slot>();
  std::string error;
  slot->sandbox = wasi::Sandbox::open({"", scratch}, error);
  if (!slot->sandbox) {
    std::fprintf(stderr, "wasm-engine-bench: %s\n", error.c_str());
    std::exit(1);
  }
  return slot;
}

bool run_once(Slot& slot, const wasm::CompiledModule& module, const std::string& input) {
  MemoryStdio stdio(input);
  wasi::Host host({{"echo.wasm"}, {"Http_Method=POST", "Http_Path=/"}}, stdio, *slot.sandbox);
  wasm::RunOutcome outcome = slot.runner.run(module, host, {});
  // The echo gives its input back; any other module must at least have written something.
  return outcome.succeeded() && stdio.written() > 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODULE.wasm CACHE_DIR [RUNS] [SLOTS]\n", argv[0]);
    return 2;
  }
  std::string module_path = argv[1];
  std::string cache = argv[2];
  int runs = argc > 3 ? std::atoi(argv[3]) : 20000;
  int slots = argc > 4 ? std::atoi(argv[4]) : 16;
  if (runs < 20 || slots < 1 || slots > 256) {
    std::fprintf(stderr, "wasm-engine-bench: RUNS >= 20 and 1 <= SLOTS <= 256\n");
    return 2;
  }

  std::ifstream in(module_path, std::ios::binary);
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  auto inspected = wasm::inspect_module(bytes);
  if (auto* error = std::get_if<std::string>(&inspected)) {
    std::fprintf(stderr, "wasm-engine-bench: %s: %s\n", module_path.c_str(), error->c_str());
    return 1;
  }
  const wasm::ModuleInfo& info = std::get<wasm::InspectedModule>(inspected).info;
  long module_kib = static_cast<long>(info.memories.at(0).min_pages * wasm::kWasmPageBytes / 1024);
  wasm::CompileResult compiled = wasm::compile_module_file(module_path, cache);
  if (compiled.error) {
    std::fprintf(stderr, "wasm-engine-bench: %s\n", compiled.error->c_str());
    return 1;
  }
  wasm::LoadResult loaded = wasm::CompiledModule::load(compiled.object_path, compiled.sha256);
  if (auto* error = std::get_if<std::string>(&loaded)) {
    std::fprintf(stderr, "wasm-engine-bench: %s\n", error->c_str());
    return 1;
  }
  const wasm::CompiledModule& module = *std::get<std::unique_ptr<wasm::CompiledModule>>(loaded);

  char scratch_root[] = "/tmp/wasm-engine-bench-XXXXXX";
  if (mkdtemp(scratch_root) == nullptr)
    return 1;
  const std::string input(1024, 'x');

  // 1. Per-request cost on one slot.
  double run_us = 0;
  bool ok = true;
  {
    wasm::GuestThread thread([&] {
      std::unique_ptr<Slot> slot = make_slot(std::string(scratch_root) + "/timed");
      for (int i = 0; i < 1000; ++i)
        ok = run_once(*slot, module, input) && ok;
      const int batches = 20;
      std::vector<double> per_run;
      for (int b = 0; b < batches; ++b) {
        auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < runs / batches; ++i)
          ok = run_once(*slot, module, input) && ok;
        std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - started;
        per_run.push_back(took.count() / (runs / batches));
      }
      std::sort(per_run.begin(), per_run.end());
      run_us = per_run[per_run.size() / 2];
    });
    thread.join();
  }

  // 2. Idle slots: each made and used once on its own thread, then held while measured.
  long before = anonymous_kib();
  std::mutex mutex;
  std::condition_variable changed;
  int ready = 0;
  bool release = false;
  {
    std::vector<std::unique_ptr<wasm::GuestThread>> threads;
    for (int i = 0; i < slots; ++i) {
      threads.push_back(std::make_unique<wasm::GuestThread>([&, i] {
        std::unique_ptr<Slot> slot = make_slot(std::string(scratch_root) + "/" + std::to_string(i));
        bool slot_ok = run_once(*slot, module, input);
        std::unique_lock lock(mutex);
        ok = ok && slot_ok;
        ++ready;
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
      }));
    }
    long idle = 0;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return ready == slots; });
      idle = anonymous_kib();
      release = true;
      changed.notify_all();
    }
    for (auto& thread : threads)
      thread->join();
    double slot_kib = static_cast<double>(idle - before) / slots;
    std::printf("run_us=%.2f runs=%d slot_kib=%.1f module_memory_kib=%ld beyond_module_kib=%.1f "
                "slots=%d errors=%d\n",
                run_us, runs, slot_kib, module_kib, slot_kib - static_cast<double>(module_kib),
                slots, ok ? 0 : 1);
  }
  std::string remove = std::string("rm -rf '") + scratch_root + "'";
  return std::system(remove.c_str()) == 0 && ok ? 0 : 1;
}
