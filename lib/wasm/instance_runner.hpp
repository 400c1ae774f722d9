#pragma once
// One worker's engine: runs a compiled module's _start once per call, each time in a fresh
// instance (wasm-fresh-instance), in the worker's one memory slot, and leaves the slot clean for
// the next call.
//
//   GuestThread worker([&] {
//     InstanceRunner runner;
//     for (each request) {
//       RunControl control;            // the loop may call control.interrupt()
//       RunOutcome outcome = runner.run(module, host, {.max_memory_bytes = limit}, &control);
//     }
//   });
//
// Everything ends in the outcome: a trap, proc_exit, an interruption. Nothing a guest does
// throws or crashes the process; a fault outside guest code still does (guest_signals.hpp).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "wasi/host_call.hpp"
#include "wasm/compiled_module.hpp"
#include "wasm/guest_state.hpp"
#include "wasm/memory_slot.hpp"
#include "wasm/run_control.hpp"
#include "wasm/run_limits.hpp"
#include "wasm/run_outcome.hpp"

namespace ofwatchdog::wasm {

class InstanceRunner {
public:
  InstanceRunner();
  ~InstanceRunner();
  InstanceRunner(const InstanceRunner&) = delete;
  InstanceRunner& operator=(const InstanceRunner&) = delete;

  // Reserves the memory slot if this runner has none yet; false, with `error` saying why, when
  // the process cannot spare the address space. The slot is reserved on first need rather
  // than with the runner: a worker that never runs a compiled module never holds 8 GiB of
  // addresses, and a pool of thousands of idle workers fits in a process.
  bool reserve_slot(std::string& error);

  // Runs on the GuestThread this runner belongs to (aborts elsewhere); one run at a time.
  // Aborts if the slot cannot be reserved: a caller that must survive that calls
  // reserve_slot first.
  // `cuda` answers a GPU guest's CUDA imports (docs/wasm-gpu.md); null, each answers
  // CUDA_ERROR_NOT_INITIALIZED.
  RunOutcome run(const CompiledModule& module, wasi::HostCalls& host, const RunLimits& limits,
                 RunControl* control = nullptr, gpu::GuestCuda* cuda = nullptr);

  // The slot, once reserved (nullptr before).
  const MemorySlot* slot() const { return slot_.get(); }

private:
  void reserve_instance(const ofw_module_v1& module);
  void apply_image(const ofw_module_v1& module);

  std::unique_ptr<MemorySlot> slot_;
  void* instance_ = nullptr;
  std::size_t instance_bytes_ = 0;
  std::size_t instance_align_ = 0;
  // A member, not a local of run(): its fields change between sigsetjmp and the siglongjmp
  // back, and only an object outside run()'s frame keeps them defined after the jump.
  ActiveRun active_;
};

} // namespace ofwatchdog::wasm
