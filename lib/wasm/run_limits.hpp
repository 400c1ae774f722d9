#pragma once
// What one run of a module may use, whichever engine runs it.

#include <cstdint>

namespace ofwatchdog::wasm {

struct RunLimits {
  // wasm-memory-limit: memory.grow past this fails in the guest (-1); an initial memory above it is
  // a memory_limit failure.
  std::uint64_t max_memory_bytes = 256u << 20;
};

// The most pages a run may have under `limits`: whole pages only, and never the 65536th, which
// a 32-bit memory's size in bytes could not be told apart from 0.
inline std::uint32_t max_pages_of(const RunLimits& limits) {
  std::uint64_t pages = limits.max_memory_bytes / 65536;
  return static_cast<std::uint32_t>(pages < 65535 ? pages : 65535);
}

} // namespace ofwatchdog::wasm
