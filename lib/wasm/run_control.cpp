#include "wasm/run_control.hpp"

#include <signal.h>

#include "wasm/guest_signals.hpp"

namespace ofwatchdog::wasm {

void RunControl::interrupt() {
  requested_.store(true, std::memory_order_seq_cst);
  std::lock_guard lock(mutex_);
  if (bound_) {
    pthread_kill(thread_, guest_interrupt_signal());
  }
}

void RunControl::bind() {
  std::lock_guard lock(mutex_);
  bound_ = true;
  thread_ = pthread_self();
}

void RunControl::unbind() {
  std::lock_guard lock(mutex_);
  bound_ = false;
}

} // namespace ofwatchdog::wasm
