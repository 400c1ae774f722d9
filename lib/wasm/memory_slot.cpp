#include "wasm/memory_slot.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ofwatchdog::wasm {

MemorySlot::MemorySlot() {
  void* region = mmap(nullptr, kReservationBytes, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) {
    // Without the reservation no guest can run safely; this is the environment (a ulimit -v)
    // and the caller learns it at start-up, where workers are made.
    std::fprintf(stderr, "wasm: cannot reserve %llu bytes of address space for a memory: %s\n",
                 static_cast<unsigned long long>(kReservationBytes), std::strerror(errno));
    std::abort();
  }
  base_ = static_cast<std::uint8_t*>(region);
}

MemorySlot::~MemorySlot() {
  munmap(base_, kReservationBytes);
}

bool MemorySlot::set_accessible(std::uint64_t bytes) {
  if (bytes > accessible_) {
    if (mprotect(base_ + accessible_, bytes - accessible_, PROT_READ | PROT_WRITE) != 0) {
      return false;
    }
  } else if (bytes < accessible_) {
    // The part given up is zero already (reset ran) or about to be reset; closing it again is
    // what makes an access past the new size fault.
    if (mprotect(base_ + bytes, accessible_ - bytes, PROT_NONE) != 0) {
      return false;
    }
  }
  accessible_ = bytes;
  // Growing: the new part may be written. Shrinking happens only at instantiation, after a
  // reset, so what is given up is zero and nothing accessible is dirty yet.
  high_water_ = bytes;
  return true;
}

void MemorySlot::reset() {
  // Memory only grows during a run, so everything it may have written is accessible now.
  std::uint64_t clear = high_water_ < kResidentResetBytes ? high_water_ : kResidentResetBytes;
  std::memset(base_, 0, clear);
  if (high_water_ > clear) {
    // The kernel gives zero pages on the next touch, and the worker's resident memory drops.
    madvise(base_ + clear, high_water_ - clear, MADV_DONTNEED);
  }
}

} // namespace ofwatchdog::wasm
