#pragma once
// The state a worker thread's signal handlers and the runtime functions share with the runner.
// Internal to lib/wasm.

#include <setjmp.h>

#include <atomic>
#include <cstdint>

#include <wasm-rt.h>

#include "wasm/run_outcome.hpp"

namespace ofwatchdog::gpu {
class GuestCuda;
}

namespace ofwatchdog::wasi {
class HostCalls;
}

namespace ofwatchdog::wasm {

class MemorySlot;
class RunControl;

// One run in progress on this thread.
struct ActiveRun {
  sigjmp_buf jump; // where a trap, exit or interruption lands (InstanceRunner::run)
  MemorySlot* slot = nullptr;
  wasi::HostCalls* host = nullptr;
  gpu::GuestCuda* cuda = nullptr;     // a GPU guest's CUDA imports (docs/wasm-gpu.md), or null
  RunControl* control = nullptr;      // may be null: the run cannot be interrupted
  wasm_rt_memory_t* memory = nullptr; // set by allocate_memory
  std::uint32_t max_pages = 0;        // the run's memory limit
  RunOutcome outcome;
  // Exception handling (modules converted with exceptions enabled).
  WASM_RT_UNWIND_TARGET* unwind_target = nullptr;
};

// A thread made by GuestThread.
struct GuestThreadState {
  std::uintptr_t guard_begin = 0; // the stack's guard region
  std::uintptr_t guard_end = 0;
  // Runtime functions refuse to run below this stack address: the host needs room, and a
  // fault there, outside guest code, would take the process down.
  std::uintptr_t host_stack_floor = 0;
  // True only while the thread executes the compiled module's code. Written by this thread,
  // read by its signal handlers.
  std::atomic<bool> in_guest{false};
  ActiveRun* run = nullptr;
};

GuestThreadState* current_guest_thread();
void set_current_guest_thread(GuestThreadState* state);

// Leaves guest code for good: records `outcome` and jumps back into the runner. Async-signal
// safe (the fault and interrupt handlers call it).
[[noreturn]] void end_run(GuestThreadState& thread, const RunOutcome& outcome);
[[noreturn]] void end_run_trapped(GuestThreadState& thread, TrapKind kind);

inline void leave_guest(GuestThreadState& thread) {
  thread.in_guest.store(false, std::memory_order_seq_cst);
}

// Marks the thread as in guest code, then ends the run if an interruption is pending (the
// order is what makes a request that raced with this return impossible to miss).
void enter_guest(GuestThreadState& thread);

} // namespace ofwatchdog::wasm
