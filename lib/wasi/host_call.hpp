#pragma once
// The boundary between an engine running a module and the WASI host serving its imports.
//
// An engine (compiled or interpreted) turns every call of a `wasi_snapshot_preview1` import
// into one `HostCalls::call`: the import's index in wasi_functions.def, its arguments widened to
// 64 bits in declaration order, and a view of the guest's linear memory as it is at that moment
// (memory may grow between calls, so the view is never kept). The host never leaves the call by
// a jump: `proc_exit` comes back as `HostResult::exited`, and the engine then unwinds the guest.
// A call may block (stdin not there yet, a slow client on stdout); it then returns
// `interrupted` once the request's cancellation wakes it, and the engine unwinds the guest.

#include <cstdint>

namespace ofwatchdog::wasi {

// Index of each function in wasi_functions.def, in its order.
enum class Function : std::uint32_t {
#define WASI_FUNCTION(name, ...) name,
#include "wasi/wasi_functions.def"
#undef WASI_FUNCTION
  count_
};

constexpr std::uint32_t kFunctionCount = static_cast<std::uint32_t>(Function::count_);

struct GuestMemory {
  std::uint8_t* data = nullptr;
  std::uint64_t size = 0; // bytes
};

struct HostResult {
  enum class Kind : std::uint8_t {
    returned,    // `value` is the function's result (a WASI errno; 0 for success)
    exited,      // proc_exit(value)
    interrupted, // the request was cancelled while the call waited
  };
  Kind kind = Kind::returned;
  std::uint32_t value = 0;
};

class HostCalls {
public:
  virtual ~HostCalls() = default;
  // `args` holds as many values as the function has parameters.
  virtual HostResult call(Function function, const std::uint64_t* args, GuestMemory memory) = 0;
};

} // namespace ofwatchdog::wasi
