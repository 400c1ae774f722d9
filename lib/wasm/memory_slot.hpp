#pragma once
// One worker's linear memory: an address range reserved once and reused by every instance
// the worker runs.
//
// wasm2c, with WASM_RT_MEMCHECK_SIGNAL_HANDLER, checks no bounds: an access computes
// base + (32-bit address) + (32-bit offset), so anything up to 8 GiB past the base must fault.
// The reservation is that range, PROT_NONE and without swap reservation; only the memory's
// current size is read/write. Its invariant between instances: the accessible part is all
// zeros, so instantiation needs no clearing, except [0, image bytes) when a module's memory
// image (cow_image.hpp) is mapped there, which holds the image.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "wasm/cow_image.hpp"

namespace ofwatchdog::wasm {

class MemorySlot {
public:
  // 4 GiB of addresses plus 4 GiB of offsets plus room for the widest access.
  static constexpr std::uint64_t kReservationBytes = (8ull << 30) + (64u << 10);
  // Below this many used bytes a reset clears with memset; above it the rest is given back to
  // the kernel (MADV_DONTNEED), which keeps a worker's resident memory bounded.
  static constexpr std::uint64_t kResidentResetBytes = 1u << 20;

  // Reserves the range, or returns nullptr with `error` saying why (a process limit on address
  // space or on mappings): a request then fails, the watchdog goes on.
  static std::unique_ptr<MemorySlot> reserve(std::string& error);
  ~MemorySlot();
  MemorySlot(const MemorySlot&) = delete;
  MemorySlot& operator=(const MemorySlot&) = delete;

  std::uint8_t* base() const { return base_; }
  bool contains(std::uintptr_t address) const {
    return address - reinterpret_cast<std::uintptr_t>(base_) < kReservationBytes;
  }

  // Makes exactly [0, bytes) accessible; returns false if the kernel refused.
  bool set_accessible(std::uint64_t bytes);
  std::uint64_t accessible() const { return accessible_; }

  // Between instances: maps `image` copy-on-write at the base, or with nullptr gives the range
  // back to plain zero pages; nothing when the slot holds that image already. Leaves nothing
  // accessible when it changes anything. False (and no image) when the kernel refused.
  bool use_image(const CowImage* image);
  // The id of the image mapped (0: none).
  std::uint64_t image_id() const { return image_id_; }

  // Puts back everything an instance may have written (all it ever made accessible): the
  // image's pages by dropping the private copies, the rest by zeroing.
  void reset();

private:
  explicit MemorySlot(std::uint8_t* base) : base_(base) {}

  std::uint8_t* base_ = nullptr;
  std::uint64_t accessible_ = 0;
  // How much the current instance may have written: all that became accessible since the
  // last shrink. Equal to accessible_ except between a reset and the next instantiation.
  std::uint64_t high_water_ = 0;
  std::uint64_t image_id_ = 0;
  std::uint64_t image_bytes_ = 0;
};

} // namespace ofwatchdog::wasm
