#include "wasm/guest_state.hpp"

#include "wasm/run_control.hpp"

namespace ofwatchdog::wasm {
namespace {

// Initial-exec: the signal handlers read it, and this model's access is a plain load from the
// thread pointer, with no lazy allocation that could run inside a handler.
thread_local GuestThreadState* tls_guest_thread __attribute__((tls_model("initial-exec"))) =
    nullptr;

} // namespace

GuestThreadState* current_guest_thread() {
  return tls_guest_thread;
}
void set_current_guest_thread(GuestThreadState* state) {
  tls_guest_thread = state;
}

void end_run(GuestThreadState& thread, const RunOutcome& outcome) {
  leave_guest(thread);
  thread.run->outcome = outcome;
  siglongjmp(thread.run->jump, 1);
}

void end_run_trapped(GuestThreadState& thread, TrapKind kind) {
  RunOutcome outcome;
  outcome.kind = RunOutcome::Kind::trapped;
  outcome.trap = kind;
  end_run(thread, outcome);
}

void enter_guest(GuestThreadState& thread) {
  thread.in_guest.store(true, std::memory_order_seq_cst);
  RunControl* control = thread.run->control;
  if (control != nullptr && control->requested()) {
    RunOutcome outcome;
    outcome.kind = RunOutcome::Kind::interrupted;
    end_run(thread, outcome);
  }
}

} // namespace ofwatchdog::wasm
