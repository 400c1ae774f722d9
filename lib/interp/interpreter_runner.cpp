#include "interp/interpreter_runner.hpp"

#include <wabt/interp/interp.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <optional>
#include <vector>

#include "interp/module_parts.hpp"
#include "interp/thread_access.hpp"
#include "interp/trap_message.hpp"

namespace ofwatchdog::interp {

namespace wi = wabt::interp;
using wasm::RunOutcome;

namespace {

RunOutcome trapped(wasm::TrapKind kind) {
  RunOutcome outcome;
  outcome.kind = RunOutcome::Kind::trapped;
  outcome.trap = kind;
  return outcome;
}

RunOutcome interrupted() {
  RunOutcome outcome;
  outcome.kind = RunOutcome::Kind::interrupted;
  return outcome;
}

// The text wabt gives a host function's trap; the outcome that explains it is kept aside.
constexpr const char* kHostEnded = "ended by the host";

} // namespace

namespace {

// Lends a worker's frame stack to a run's thread and takes it back, emptied, when the run ends.
// The stack holds kMaxFrames frames (2.5 MiB); reserved afresh by every run, it went through
// malloc each time, and where glibc put it depended on its moving mmap threshold: a worker's
// first runs kept it outside the thread's arena and later ones inside, so a worker's memory
// settled only once it had run a few times. Allocated once per worker, it never moves.
class LentFrames {
public:
  LentFrames(wi::Thread& thread, std::vector<wi::Frame>& kept)
      : thread_frames_(frames(thread)), kept_(kept) {
    if (kept_.capacity() < InterpreterRunner::kMaxFrames)
      kept_.reserve(InterpreterRunner::kMaxFrames);
    kept_.clear();
    thread_frames_.swap(kept_);
  }
  ~LentFrames() {
    // A trapped or interrupted run leaves its frames behind; none may outlive the run.
    thread_frames_.clear();
    thread_frames_.swap(kept_);
  }
  LentFrames(const LentFrames&) = delete;
  LentFrames& operator=(const LentFrames&) = delete;

private:
  std::vector<wi::Frame>& thread_frames_;
  std::vector<wi::Frame>& kept_;
};

} // namespace

// What a worker keeps from one run to the next: a store holding the module and the host
// functions its imports bind to, built for one module and one memory limit, and the frame
// stack its runs borrow. Instances come and go in the store; the collection after each run
// frees them.
struct InterpreterRunner::Worker {
  const InterpretedModule* module = nullptr;
  std::uint32_t max_pages = 0;
  std::unique_ptr<wi::Store> store;
  wi::Module::Ptr compiled;
  std::vector<wi::HostFunc::Ptr> host_functions;
  wi::RefVec imports;
  std::vector<wi::Frame> frame_stack; // lent to each run's thread (LentFrames)

  // The current run, for the host functions.
  wasi::HostCalls* host = nullptr;
  gpu::GuestCuda* cuda = nullptr;
  wasm::RunControl* control = nullptr;
  wi::Memory::Ptr memory;
  std::optional<RunOutcome> ended; // set by a host call that ends the run

  void build(const InterpretedModule& for_module, std::uint32_t pages);
  wabt::Result call_host(wasi::Function function, const wi::FuncType& type,
                         const wi::Values& params, wi::Values& results, wi::Trap::Ptr* trap);
  // A GPU guest's CUDA import (every parameter and the result an i32): always back to the guest.
  wabt::Result call_cuda(gpu::CudaFunction function, const wi::Values& params, wi::Values& results);
  RunOutcome run_instance(const ModuleParts& parts);
  std::optional<RunOutcome> run_function(wi::Thread& thread, const wi::Func::Ptr& func);
  RunOutcome end_with_trap(const wi::Trap::Ptr& trap);
};

void InterpreterRunner::Worker::build(const InterpretedModule& for_module, std::uint32_t pages) {
  const ModuleParts& parts = for_module.parts();
  host_functions.clear();
  imports.clear();
  compiled.reset();
  store = std::make_unique<wi::Store>(parts.features);

  wi::ModuleDesc desc = parts.desc;
  // wasm-memory-limit: the limit becomes the memory's declared maximum, so memory.grow past it
  // answers -1.
  wabt::Limits& limits = desc.memories[0].type.limits;
  if (!limits.has_max || limits.max > pages) {
    limits.max = pages;
    limits.has_max = true;
  }
  // The start function, if any, runs in slices like _start instead of inside Instantiate,
  // where nothing could stop it.
  desc.starts.clear();
  compiled = wi::Module::New(*store, std::move(desc));

  for (std::size_t i = 0; i < parts.imports.size(); ++i) {
    const auto* type = wabt::cast<wi::FuncType>(parts.desc.imports[i].type.type.get());
    wasm::HostImport bound = parts.imports[i];
    wi::FuncType signature = *type;
    if (bound.from == wasm::HostImport::From::cuda) {
      gpu::CudaFunction function = bound.cuda();
      host_functions.push_back(wi::HostFunc::New(
          *store, signature,
          [this, function](wi::Thread&, const wi::Values& params, wi::Values& results,
                           wi::Trap::Ptr*) { return call_cuda(function, params, results); }));
    } else {
      wasi::Function function = bound.wasi();
      host_functions.push_back(
          wi::HostFunc::New(*store, signature,
                            [this, function, signature](wi::Thread&, const wi::Values& params,
                                                        wi::Values& results, wi::Trap::Ptr* trap) {
                              return call_host(function, signature, params, results, trap);
                            }));
    }
    imports.push_back(host_functions.back().ref());
  }
  module = &for_module;
  max_pages = pages;
}

wabt::Result InterpreterRunner::Worker::call_cuda(gpu::CudaFunction function,
                                                  const wi::Values& params, wi::Values& results) {
  std::uint64_t args[16] = {};
  std::size_t count = std::min<std::size_t>(params.size(), 16);
  for (std::size_t i = 0; i < count; ++i)
    args[i] = params[i].Get<std::uint32_t>();
  wasi::GuestMemory guest{memory->UnsafeData(), memory->ByteSize()};
  results[0] = wi::Value::Make(gpu::call_cuda(cuda, function, args, guest));
  return wabt::Result::Ok;
}

wabt::Result InterpreterRunner::Worker::call_host(wasi::Function function, const wi::FuncType& type,
                                                  const wi::Values& params, wi::Values& results,
                                                  wi::Trap::Ptr* trap) {
  // WASI functions take at most a handful of i32 and i64 parameters.
  std::uint64_t args[16] = {};
  std::size_t count = std::min<std::size_t>(params.size(), 16);
  for (std::size_t i = 0; i < count; ++i)
    args[i] = type.params[i] == wabt::Type::I64 ? params[i].Get<std::uint64_t>()
                                                : params[i].Get<std::uint32_t>();
  wasi::GuestMemory guest{memory->UnsafeData(), memory->ByteSize()};
  wasi::HostResult result;
  try {
    result = host->call(function, args, guest);
  } catch (...) {
    ended = trapped(wasm::TrapKind::host_failure);
    *trap = wi::Trap::New(*store, kHostEnded);
    return wabt::Result::Error;
  }
  switch (result.kind) {
  case wasi::HostResult::Kind::exited:
    ended = RunOutcome{RunOutcome::Kind::exited, result.value, wasm::TrapKind::unreachable};
    *trap = wi::Trap::New(*store, kHostEnded);
    return wabt::Result::Error;
  case wasi::HostResult::Kind::interrupted:
    ended = interrupted();
    *trap = wi::Trap::New(*store, kHostEnded);
    return wabt::Result::Error;
  case wasi::HostResult::Kind::returned:
    break;
  }
  if (!results.empty())
    results[0] = wi::Value::Make(result.value);
  // A cancellation that came while the host worked is seen before the guest goes on.
  if (control != nullptr && control->requested()) {
    ended = interrupted();
    *trap = wi::Trap::New(*store, kHostEnded);
    return wabt::Result::Error;
  }
  return wabt::Result::Ok;
}

RunOutcome InterpreterRunner::Worker::end_with_trap(const wi::Trap::Ptr& trap) {
  if (ended)
    return *ended;
  return trapped(trap ? trap_kind_of(trap->message()) : wasm::TrapKind::unreachable);
}

// Runs `func` to its end in slices; nothing when it returned, else how the run ended.
std::optional<RunOutcome> InterpreterRunner::Worker::run_function(wi::Thread& thread,
                                                                  const wi::Func::Ptr& func) {
  auto* defined = wabt::dyn_cast<wi::DefinedFunc>(func.get());
  if (defined == nullptr) // an import exported as _start: wasm-module-check refuses it
    return trapped(wasm::TrapKind::unreachable);
  std::vector<wi::Frame>& stack = frames(thread);
  wi::Trap::Ptr trap;
  if (push_call(thread, *defined, &trap) == wi::RunResult::Trap)
    return end_with_trap(trap);
  while (true) {
    if (control != nullptr && control->requested())
      return interrupted();
    // One instruction pushes at most one frame, so a slice no longer than the frames left
    // never meets a full stack (see thread_access.hpp for why that matters).
    std::size_t left = stack.capacity() - stack.size();
    if (left == 0)
      return trapped(wasm::TrapKind::call_stack_exhausted);
    int slice = static_cast<int>(std::min<std::size_t>(kSliceInstructions, left));
    wi::RunResult result = thread.Run(slice, &trap);
    switch (result) {
    case wi::RunResult::Ok:
      break;
    case wi::RunResult::Return:
      return std::nullopt;
    case wi::RunResult::Trap:
      return end_with_trap(trap);
    case wi::RunResult::Exception:
      return trapped(wasm::TrapKind::uncaught_exception);
    }
  }
}

RunOutcome InterpreterRunner::Worker::run_instance(const ModuleParts& parts) {
  wi::Trap::Ptr trap;
  wi::Instance::Ptr instance = wi::Instance::Instantiate(*store, compiled.ref(), imports, &trap);
  if (!instance)
    return end_with_trap(trap);
  memory = wi::Memory::Ptr(*store, instance->exports()[parts.memory_export]);
  wi::Thread thread(*store);
  LentFrames lent(thread, frame_stack);
  for (const wi::StartDesc& start : parts.desc.starts) {
    wi::Func::Ptr func(*store, instance->funcs()[start.func_index]);
    if (auto outcome = run_function(thread, func))
      return *outcome;
  }
  wi::Func::Ptr start(*store, instance->exports()[parts.start_export]);
  if (auto outcome = run_function(thread, start))
    return *outcome;
  return RunOutcome{};
}

InterpreterRunner::InterpreterRunner() : worker_(std::make_unique<Worker>()) {}

InterpreterRunner::~InterpreterRunner() = default;

RunOutcome InterpreterRunner::run(const InterpretedModule& module, wasi::HostCalls& host,
                                  const wasm::RunLimits& limits, wasm::RunControl* control,
                                  gpu::GuestCuda* cuda) {
  const ModuleParts& parts = module.parts();
  std::uint32_t pages = wasm::max_pages_of(limits);
  if (parts.initial_pages > pages)
    return trapped(wasm::TrapKind::memory_limit);
  if (control != nullptr && control->requested())
    return interrupted();
  Worker& worker = *worker_;
  if (worker.module != &module || worker.max_pages != pages)
    worker.build(module, pages);
  worker.host = &host;
  worker.cuda = cuda;
  worker.control = control;
  worker.ended.reset();
  RunOutcome outcome;
  try {
    outcome = worker.run_instance(parts);
  } catch (const std::bad_alloc&) {
    // A memory the machine could not give (the limit is above what it has).
    outcome = trapped(wasm::TrapKind::memory_limit);
  }
  worker.memory.reset();
  worker.host = nullptr;
  worker.cuda = nullptr;
  worker.control = nullptr;
  // The instance, its memory, tables and globals are unreachable now.
  worker.store->Collect();
  return outcome;
}

} // namespace ofwatchdog::interp
