#pragma once
// The process-wide signal handlers that turn a guest's faults into traps and deliver
// interruptions (docs/wasm-engine.md, "Signals").
//
// SIGSEGV and SIGBUS: handled only for a fault, raised by the kernel, on a GuestThread that is
// running guest code, at an address in its run's memory reservation (-> out of bounds memory
// access) or in its stack guard (-> call stack exhausted). Every other fault goes to the handler
// that was installed before ours, or, if that was the default, gets the default action back and
// kills the process with a core dump as it would have without us.

namespace ofwatchdog::wasm {

// Installs the handlers, or puts them back in front if something replaced them since.
// GuestThread and InstanceRunner call it; it costs a few sigaction calls.
void install_guest_signal_handlers();

// The realtime signal RunControl::interrupt sends (SIGRTMIN + 2; glibc keeps the first two
// realtime signals below SIGRTMIN for itself).
int guest_interrupt_signal();

} // namespace ofwatchdog::wasm
