#pragma once
// Two private members of wabt's interpreter Thread (wabt 1.0.32, Debian 12), reached through
// the one door C++ leaves open: naming a private member in an explicit template
// instantiation is allowed ([temp.spec.general]), and the instantiation can hand the member
// pointer out through a friend function.
//
// Why: wabt's public way to run a function, Func::Call, runs it to the end, and nothing from
// outside can stop it; a guest in an infinite loop would hold its worker for ever. Thread's
// public Run(num_instructions) runs a bounded slice, but the only way to start a call is the
// private PushCall. With it the runner pushes _start itself and runs slices, checking between
// them whether the request was cancelled (wasm-interrupt).
//
// The frame stack is needed for a second reason: in 1.0.32, a call that finds the frame stack
// full sets the trap but returns "ok" (Thread::DoCall), so the guest would go on with a value
// stack the call never completed. The runner never lets a slice reach that point: it sizes
// each slice by the frames left (one instruction pushes at most one frame) and reports
// "call stack exhausted" itself when none are.
//
// A wabt whose Thread lacks these members fails to build here, not at run time.

#include <wabt/interp/interp.h>

#include <vector>

namespace ofwatchdog::interp {

namespace detail {

using PushDefined = wabt::interp::RunResult (wabt::interp::Thread::*)(
    const wabt::interp::DefinedFunc&, wabt::interp::Trap::Ptr*);
using Frames = std::vector<wabt::interp::Frame> wabt::interp::Thread::*;

struct PushCallTag {
  friend PushDefined member(PushCallTag);
};
struct FramesTag {
  friend Frames member(FramesTag);
};

template <typename Tag, auto Member> struct Expose {
  friend decltype(Member) member(Tag) { return Member; }
};

template struct Expose<PushCallTag, static_cast<PushDefined>(&wabt::interp::Thread::PushCall)>;
template struct Expose<FramesTag, &wabt::interp::Thread::frames_>;

} // namespace detail

// Pushes a call of `func` (no parameters) as the thread's outermost frame.
inline wabt::interp::RunResult push_call(wabt::interp::Thread& thread,
                                         const wabt::interp::DefinedFunc& func,
                                         wabt::interp::Trap::Ptr* trap) {
  return (thread.*member(detail::PushCallTag{}))(func, trap);
}

// The thread's frame stack: its size is the call depth, its capacity the depth limit.
inline std::vector<wabt::interp::Frame>& frames(wabt::interp::Thread& thread) {
  return thread.*member(detail::FramesTag{});
}

} // namespace ofwatchdog::interp
