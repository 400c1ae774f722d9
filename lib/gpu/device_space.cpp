// DeviceSpace: see device_space.hpp.
#include "gpu/device_space.hpp"

#include <algorithm>

namespace ofwatchdog::gpu {

std::optional<std::uint32_t> DeviceSpace::add(std::uint64_t bytes, CuDevicePtr device) {
  // Never empty, so that each allocation has an address of its own.
  std::uint64_t span =
      std::max<std::uint64_t>(1, (bytes + kAlignment - 1) / kAlignment) * kAlignment;
  if (span > (std::uint64_t{1} << 32) || next_ > (std::uint64_t{1} << 32) - span)
    return std::nullopt;
  auto base = static_cast<std::uint32_t>(next_);
  next_ += span;
  live_.emplace(base, Allocation{base, bytes, device});
  return base;
}

std::optional<DeviceSpace::Allocation> DeviceSpace::remove(std::uint32_t guest_base) {
  auto found = live_.find(guest_base);
  if (found == live_.end())
    return std::nullopt;
  Allocation allocation = found->second;
  live_.erase(found);
  return allocation;
}

std::optional<CuDevicePtr> DeviceSpace::translate(std::uint32_t guest, std::uint64_t bytes) const {
  auto after = live_.upper_bound(guest);
  if (after == live_.begin())
    return std::nullopt;
  const Allocation& allocation = std::prev(after)->second;
  std::uint64_t offset = guest - allocation.guest_base;
  // 64-bit arithmetic, each side checked alone: no sum can wrap back into the allocation.
  if (offset > allocation.bytes || bytes > allocation.bytes - offset)
    return std::nullopt;
  return allocation.device + offset;
}

} // namespace ofwatchdog::gpu
