#pragma once
// One worker's interpreter: runs an InterpretedModule's _start once per call, each time in a
// fresh instance (wasm-fresh-instance), with the same WASI host, limits and outcomes as the
// compiled engine's InstanceRunner, so a client cannot tell which engine answered (wasm-engines).
//
//   InterpreterRunner runner;                 // one per worker thread, reused
//   RunControl control;                       // the loop may call control.interrupt()
//   RunOutcome outcome = runner.run(module, host, {.max_memory_bytes = limit}, &control);
//
// Interruption needs no signal: the runner runs guest code in slices of a few thousand
// instructions and reads the control between slices and after every host call, so an
// interrupted guest stops within a slice and is never resumed (wasm-interrupt). A guest fault is a
// trap the interpreter reports; nothing a guest does reaches a signal handler.
//
// Any thread may own a runner; one run at a time.

#include <memory>

#include "gpu/cuda_call.hpp"
#include "interp/interpreted_module.hpp"
#include "wasi/host_call.hpp"
#include "wasm/run_control.hpp"
#include "wasm/run_limits.hpp"
#include "wasm/run_outcome.hpp"

namespace ofwatchdog::interp {

class InterpreterRunner {
public:
  InterpreterRunner();
  ~InterpreterRunner();
  InterpreterRunner(const InterpreterRunner&) = delete;
  InterpreterRunner& operator=(const InterpreterRunner&) = delete;

  // `cuda` answers a GPU guest's CUDA imports (docs/wasm-gpu.md), as for the compiled engine.
  wasm::RunOutcome run(const InterpretedModule& module, wasi::HostCalls& host,
                       const wasm::RunLimits& limits, wasm::RunControl* control = nullptr,
                       gpu::GuestCuda* cuda = nullptr);

  // Instructions per slice: the most guest code that runs between two looks at the control.
  static constexpr int kSliceInstructions = 10000;
  // Call depth: the interpreter's own default (about 1,400 frames) is far below what a native
  // stack gives compiled code.
  static constexpr std::size_t kMaxFrames = 65536;

private:
  struct Worker;
  std::unique_ptr<Worker> worker_;
};

} // namespace ofwatchdog::interp
