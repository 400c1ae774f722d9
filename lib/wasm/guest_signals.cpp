#include "wasm/guest_signals.hpp"

#include <signal.h>

#include <cstdint>
#include <mutex>

#include "wasm/guest_state.hpp"
#include "wasm/memory_slot.hpp"
#include "wasm/run_control.hpp"

namespace ofwatchdog::wasm {
namespace {

struct sigaction previous_segv;
struct sigaction previous_bus;

// Hands a fault that is not ours to whoever would have had it.
void forward_fault(int signal_number, siginfo_t* info, void* context) {
  const struct sigaction& previous = signal_number == SIGSEGV ? previous_segv : previous_bus;
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(signal_number, info, context);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signal_number);
    return;
  }
  // The default action, restored: a fault re-executes the faulting instruction on return and
  // dies of it with a core; a signal someone sent is raised again (delivered on return).
  struct sigaction fallback = {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(signal_number, &fallback, nullptr);
  if (info->si_code <= 0) {
    raise(signal_number);
  }
}

void on_fault(int signal_number, siginfo_t* info, void* context) {
  GuestThreadState* thread = current_guest_thread();
  // si_code > 0: raised by the kernel for this thread's own access, so si_addr is meaningful.
  if (thread != nullptr && thread->run != nullptr && info->si_code > 0 &&
      thread->in_guest.load(std::memory_order_relaxed)) {
    auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    if (thread->run->slot->contains(address)) {
      end_run_trapped(*thread, TrapKind::out_of_bounds_memory);
    }
    if (address >= thread->guard_begin && address < thread->guard_end) {
      end_run_trapped(*thread, TrapKind::call_stack_exhausted);
    }
  }
  forward_fault(signal_number, info, context);
}

void on_interrupt(int, siginfo_t*, void*) {
  GuestThreadState* thread = current_guest_thread();
  if (thread == nullptr || thread->run == nullptr ||
      !thread->in_guest.load(std::memory_order_relaxed)) {
    return; // outside guest code: the next return to it sees the request
  }
  RunControl* control = thread->run->control;
  if (control != nullptr && control->requested()) {
    RunOutcome outcome;
    outcome.kind = RunOutcome::Kind::interrupted;
    end_run(*thread, outcome);
  }
}

// Puts our handler for `signal_number` in front unless it is there already; whatever was
// there becomes the one faults that are not ours go to.
void install_one(int signal_number, void (*handler)(int, siginfo_t*, void*), int flags,
                 struct sigaction* previous) {
  struct sigaction current = {};
  sigaction(signal_number, nullptr, &current);
  if ((current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == handler) {
    return;
  }
  struct sigaction ours = {};
  ours.sa_sigaction = handler;
  ours.sa_flags = flags;
  sigemptyset(&ours.sa_mask);
  // The interrupt signal waits while a fault is handled, so the two never nest.
  sigaddset(&ours.sa_mask, guest_interrupt_signal());
  sigaction(signal_number, &ours, previous != nullptr ? previous : &current);
}

} // namespace

void install_guest_signal_handlers() {
  // Checked, not installed once: a component that installs its own handler later (a crash
  // reporter, a test framework that swaps handlers per test) would otherwise silently take the
  // guard-page faults, and the process would die of a guest's out-of-bounds access.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  // On the alternate stack: a stack overflow leaves no room on the thread's own.
  install_one(SIGSEGV, on_fault, SA_SIGINFO | SA_ONSTACK, &previous_segv);
  install_one(SIGBUS, on_fault, SA_SIGINFO | SA_ONSTACK, &previous_bus);
  // SA_RESTART: a host call blocked in a system call is not disturbed; its own cancellation
  // wakes it.
  install_one(guest_interrupt_signal(), on_interrupt, SA_SIGINFO | SA_ONSTACK | SA_RESTART,
              nullptr);
}

int guest_interrupt_signal() {
  return SIGRTMIN + 2;
}

} // namespace ofwatchdog::wasm
