#pragma once
// The handle through which another thread interrupts one run (wasm-interrupt): one per request,
// given to InstanceRunner::run. It is per run rather than per worker so that an interruption meant
// for one request can never stop the next request the same worker has already started.
//
// The state machine (docs/wasm-engine.md, "Interruption"):
// - interrupt() sets `requested` (once, sticky) and, while a run is bound to this control,
//   sends the worker the interrupt signal. Binding and signalling share a mutex, so a signal
//   is never sent to a thread that has finished the run and may have exited.
// - The signal handler leaves guest code (siglongjmp) only when the worker is in guest code
//   and its current run's control is requested; anywhere else it returns and does nothing.
// - Every return to guest code (entering _start, coming back from a host call or a runtime
//   function) marks the worker as in guest code first and then reads `requested`, so a request
//   made while the worker was outside guest code is seen at the next return: either the read
//   sees it or the signal arrives after the mark.
// - A host call blocked in the host is not disturbed by the signal (SA_RESTART, no jump); the
//   request's own cancellation wakes it and it returns `interrupted`.

#include <pthread.h>

#include <atomic>
#include <mutex>

namespace ofwatchdog::wasm {

class RunControl {
public:
  RunControl() = default;
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  // Any thread, any time, any number of times; quick and non-blocking apart from a short lock.
  void interrupt();
  bool requested() const { return requested_.load(std::memory_order_seq_cst); }

private:
  friend class InstanceRunner;
  void bind();   // on the worker, before guest code can run
  void unbind(); // on the worker, after it can no longer run

  std::atomic<bool> requested_{false};
  std::mutex mutex_;
  bool bound_ = false; // guarded by mutex_
  pthread_t thread_{}; // guarded by mutex_
};

} // namespace ofwatchdog::wasm
