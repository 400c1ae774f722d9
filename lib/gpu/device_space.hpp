#pragma once
// The device addresses a GPU guest sees (docs/wasm-gpu.md). A guest is built for wasm32, where
// cuda.h makes CUdeviceptr 32 bits, and must never learn a real device address: each of its
// allocations gets a range of a private 32-bit space instead, and every address it hands back
// is translated, with its whole range checked against the one allocation it falls in. Guests
// may do arithmetic inside an allocation (`d_a + 4 * i`), as CUDA programs do.
//
// Ranges are handed out from the bottom of the space and aligned as the driver aligns its own
// (256 bytes); a freed range is not handed out again while the instance lives, so a stale
// address stays invalid instead of reaching a newer allocation. Address 0 is never used.
#include <cstdint>
#include <map>
#include <optional>

#include "gpu/cuda_api.hpp"

namespace ofwatchdog::gpu {

class DeviceSpace {
public:
  struct Allocation {
    std::uint32_t guest_base = 0;
    std::uint64_t bytes = 0;
    CuDevicePtr device = 0; // the driver's address: never shown to the guest
  };

  // A range for an allocation of `bytes` at `device`; nothing when the space has no room left.
  std::optional<std::uint32_t> add(std::uint64_t bytes, CuDevicePtr device);
  // The allocation that starts exactly at `guest_base`, removed; nothing when none does.
  std::optional<Allocation> remove(std::uint32_t guest_base);
  // The device address of `[guest, guest + bytes)` when it lies inside one live allocation.
  std::optional<CuDevicePtr> translate(std::uint32_t guest, std::uint64_t bytes) const;

  std::size_t count() const { return live_.size(); }
  // Every live allocation, for the instance's end.
  const std::map<std::uint32_t, Allocation>& live() const { return live_; }
  void clear() { live_.clear(); }

  static constexpr std::uint64_t kAlignment = 256;
  static constexpr std::uint64_t kFirstAddress = 0x1000'0000;

private:
  std::map<std::uint32_t, Allocation> live_; // by guest base
  std::uint64_t next_ = kFirstAddress;
};

} // namespace ofwatchdog::gpu
