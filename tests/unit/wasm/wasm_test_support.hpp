#pragma once
// Shared by the engines' tests: the fixture modules, compiled (one compile cache per test
// process) or read for the interpreter, a small fake WASI host, and running a module on a guest
// thread with either engine.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "interp/interpreted_module.hpp"
#include "interp/interpreter_runner.hpp"
#include "unit/test_files.hpp"
#include "unit/wasm/wasm_fixture_paths.hpp"
#include "wasi/host_call.hpp"
#include "wasm/compile_module.hpp"
#include "wasm/compiled_module.hpp"
#include "wasm/guest_thread.hpp"
#include "wasm/instance_runner.hpp"
#include "wasm/module_check.hpp"

// Defined when built with AddressSanitizer, whose quarantine keeps freed memory resident and
// whose SIGSEGV handler comes before ours.
#if defined(__SANITIZE_ADDRESS__)
#define OFW_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OFW_SANITIZED 1
#endif
#endif

namespace ofwatchdog::wasm::testing {

inline std::string fixture_path(const std::string& name) {
  return std::string(OFW_WASM_FIXTURES) + "/" + name + ".wasm";
}

inline std::vector<std::uint8_t> read_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name), std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One cache directory for the whole test process, so each fixture compiles once.
inline const std::string& shared_cache_dir() {
  static ofwatchdog::testing::TempDir dir("wasm-cache");
  return dir.base;
}

// The fixture compiled and loaded; a compile failure fails the test with the tool's output.
inline const CompiledModule& compiled(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<CompiledModule>> modules;
  std::lock_guard lock(mutex);
  auto found = modules.find(name);
  if (found != modules.end()) {
    return *found->second;
  }
  CompileResult result = compile_module_file(fixture_path(name), shared_cache_dir());
  INFO(result.error.value_or(""));
  REQUIRE_FALSE(result.error);
  LoadResult loaded = CompiledModule::load(result.object_path, result.sha256);
  if (auto* error = std::get_if<std::string>(&loaded)) {
    FAIL(*error);
  }
  auto& module = modules[name] = std::move(std::get<std::unique_ptr<CompiledModule>>(loaded));
  return *module;
}

// The fixture inspected (wasm-module-check) and read for the interpreter, once per test process.
inline const interp::InterpretedModule& interpreted(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<interp::InterpretedModule>> modules;
  std::lock_guard lock(mutex);
  if (auto found = modules.find(name); found != modules.end())
    return *found->second;
  std::vector<std::uint8_t> bytes = read_fixture(name);
  auto inspected = inspect_module(bytes);
  if (auto* error = std::get_if<std::string>(&inspected))
    FAIL(*error);
  auto& facts = std::get<InspectedModule>(inspected);
  auto loaded =
      interp::InterpretedModule::load(bytes.data(), bytes.size(), {facts.sha256, facts.imports});
  if (auto* error = std::get_if<std::string>(&loaded))
    FAIL(*error);
  auto& module = modules[name] =
      std::move(std::get<std::unique_ptr<interp::InterpretedModule>>(loaded));
  return *module;
}

// The process's resident memory, from /proc/self/status.
inline long resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

enum class Engine { aot, interpreter };

inline const char* engine_name(Engine engine) {
  return engine == Engine::aot ? "aot" : "interpreter";
}

// One worker's runner of either engine, running fixtures by name. Made and used on a
// GuestThread (which the compiled engine needs and the interpreter does not mind).
class EngineRunner {
public:
  explicit EngineRunner(Engine engine) : engine_(engine) {}
  RunOutcome run(const std::string& fixture, wasi::HostCalls& host, RunLimits limits = {},
                 RunControl* control = nullptr) {
    if (engine_ == Engine::aot)
      return compiled_.run(compiled(fixture), host, limits, control);
    return interpreter_.run(interpreted(fixture), host, limits, control);
  }

private:
  Engine engine_;
  InstanceRunner compiled_;
  interp::InterpreterRunner interpreter_;
};

// fd_write to buffers, fd_read from a buffer, proc_exit, empty args and environment,
// everything else ENOSYS. `block_reads` makes fd_read wait until `cancel()`, as a real host
// blocked on a slow client waits for the request's cancellation.
class FakeHost : public wasi::HostCalls {
public:
  static constexpr std::uint32_t kSuccess = 0;
  static constexpr std::uint32_t kBadf = 8;
  static constexpr std::uint32_t kFault = 21;
  static constexpr std::uint32_t kNosys = 52;

  std::string input;
  std::string output;
  std::string errors;
  bool block_reads = false;
  std::atomic<bool> blocked{false}; // a read is waiting
  std::function<void()> on_write;   // called on every fd_write, before it writes

  void cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    wake_.notify_all();
  }

  wasi::HostResult call(wasi::Function function, const std::uint64_t* args,
                        wasi::GuestMemory memory) override {
    using wasi::Function;
    switch (function) {
    case Function::fd_write: {
      if (on_write) {
        on_write();
      }
      std::string* target = args[0] == 1 ? &output : args[0] == 2 ? &errors : nullptr;
      if (target == nullptr) {
        return returned(kBadf);
      }
      return each_iovec(memory, args, [&](std::uint8_t* base, std::uint32_t length) {
        target->append(reinterpret_cast<const char*>(base), length);
        return length;
      });
    }
    case Function::fd_read: {
      if (block_reads) {
        std::unique_lock lock(mutex_);
        blocked = true;
        wake_.wait(lock, [&] { return cancelled_; });
        return {wasi::HostResult::Kind::interrupted, 0};
      }
      if (args[0] != 0) {
        return returned(kBadf);
      }
      return each_iovec(memory, args, [&](std::uint8_t* base, std::uint32_t length) {
        std::size_t take = std::min<std::size_t>(length, input.size() - read_at_);
        std::memcpy(base, input.data() + read_at_, take);
        read_at_ += take;
        return static_cast<std::uint32_t>(take);
      });
    }
    case Function::proc_exit:
      return {wasi::HostResult::Kind::exited, std::uint32_t(args[0])};
    case Function::args_sizes_get:
    case Function::environ_sizes_get:
      return returned(store(memory, args[0], 0) && store(memory, args[1], 0) ? kSuccess : kFault);
    case Function::args_get:
    case Function::environ_get:
      return returned(kSuccess);
    case Function::fd_prestat_get:
      return returned(kBadf);
    default:
      return returned(kNosys);
    }
  }

private:
  // fd_read and fd_write: `use` each buffer of the iovec list at args[1] (args[2] entries),
  // then store the total it returns at args[3].
  template <typename Use>
  wasi::HostResult each_iovec(wasi::GuestMemory memory, const std::uint64_t* args, Use use) {
    std::uint64_t total = 0;
    for (std::uint64_t i = 0; i < args[2]; ++i) {
      std::uint32_t base = 0, length = 0;
      if (!load(memory, args[1] + 8 * i, base) || !load(memory, args[1] + 8 * i + 4, length) ||
          std::uint64_t(base) + length > memory.size) {
        return returned(kFault);
      }
      total += use(memory.data + base, length);
    }
    return returned(store(memory, args[3], std::uint32_t(total)) ? kSuccess : kFault);
  }

  static wasi::HostResult returned(std::uint32_t value) {
    return {wasi::HostResult::Kind::returned, value};
  }
  static bool load(const wasi::GuestMemory& memory, std::uint64_t at, std::uint32_t& value) {
    if (at + 4 > memory.size) {
      return false;
    }
    std::memcpy(&value, memory.data + at, 4);
    return true;
  }
  static bool store(const wasi::GuestMemory& memory, std::uint64_t at, std::uint32_t value) {
    if (at + 4 > memory.size) {
      return false;
    }
    std::memcpy(memory.data + at, &value, 4);
    return true;
  }

  std::size_t read_at_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool cancelled_ = false;
};

// Runs `body` on a fresh guest thread and waits for it.
inline void on_guest_thread(const std::function<void()>& body) {
  GuestThread thread(body);
  thread.join();
}

// One run of a fixture on a fresh guest thread.
inline RunOutcome run_once(Engine engine, const std::string& name, FakeHost& host,
                           RunLimits limits = {}) {
  RunOutcome outcome;
  on_guest_thread([&] {
    EngineRunner runner(engine);
    outcome = runner.run(name, host, limits);
  });
  return outcome;
}
inline RunOutcome run_once(const std::string& name, FakeHost& host, RunLimits limits = {}) {
  return run_once(Engine::aot, name, host, limits);
}

} // namespace ofwatchdog::wasm::testing
