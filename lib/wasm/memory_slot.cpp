#include "wasm/memory_slot.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <string>

#include <fmt/format.h>

#include "util/invariant.hpp"

namespace ofwatchdog::wasm {

std::unique_ptr<MemorySlot> MemorySlot::reserve(std::string& error) {
  void* region = mmap(nullptr, kReservationBytes, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) {
    // Without the reservation no guest can run safely. It fails when the process has mapped
    // most of its address space (a ulimit -v, or thousands of workers holding a slot each).
    error = fmt::format("cannot reserve {} bytes of address space for a memory: {}",
                        kReservationBytes, std::strerror(errno));
    return nullptr;
  }
  return std::unique_ptr<MemorySlot>(new MemorySlot(static_cast<std::uint8_t*>(region)));
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

bool MemorySlot::use_image(const CowImage* image) {
  std::uint64_t wanted = image != nullptr ? image->id() : 0;
  if (wanted == image_id_)
    return true;
  if (!set_accessible(0))
    return false;
  if (image_bytes_ > 0) {
    // The old image's range becomes reserved addresses again, zero on their next use.
    void* back = mmap(base_, image_bytes_, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    // The range would still show the old image; no instance may run here.
    OFW_INVARIANT(back != MAP_FAILED,
                  std::string("a wasm memory image can be unmapped: ") + std::strerror(errno));
    image_id_ = 0;
    image_bytes_ = 0;
  }
  if (image == nullptr)
    return true;
  void* mapped = mmap(base_, image->bytes(), PROT_NONE, MAP_PRIVATE | MAP_FIXED, image->fd(), 0);
  if (mapped == MAP_FAILED) {
    // MAP_FIXED may have replaced the reservation before failing: put it back.
    void* back = mmap(base_, image->bytes(), PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    OFW_INVARIANT(back != MAP_FAILED, "a wasm memory reservation can be restored");
    return false;
  }
  image_id_ = image->id();
  image_bytes_ = image->bytes();
  return true;
}

void MemorySlot::reset() {
  // Memory only grows during a run, so everything it may have written is accessible now.
  std::uint64_t image = image_bytes_ < high_water_ ? image_bytes_ : high_water_;
  if (image > 0) {
    // A private file mapping reads the file again once its copies are dropped.
    madvise(base_, image, MADV_DONTNEED);
  }
  std::uint64_t rest = high_water_ - image;
  std::uint64_t clear = rest < kResidentResetBytes ? rest : kResidentResetBytes;
  std::memset(base_ + image, 0, clear);
  if (rest > clear) {
    // The kernel gives zero pages on the next touch, and the worker's resident memory drops.
    madvise(base_ + image + clear, rest - clear, MADV_DONTNEED);
  }
}

} // namespace ofwatchdog::wasm
