#pragma once
// A module's initial memory content, when it is large, as a sealed memfd that every slot maps
// copy-on-write once and gets back after each request with one madvise.
//
// Why: the active data segments are copied into a fresh memory per request (wasm-fresh-instance).
// For a few KiB that copy is nothing; a module with 17 MB of data (a speech synthesiser's voice,
// say) would copy 17 MB per request, milliseconds of work and a whole cache's worth of traffic. A
// private mapping of the image costs a page fault per page the request touches, and MADV_DONTNEED
// on the range drops whatever the request wrote, so the next read sees the image again, straight
// from the page cache the slots share.
//
// The image covers [0, bytes): every segment written in module order (a later segment wins
// where two overlap, as instantiation would have it) and zeros between them, rounded up to a
// page. Below kCowThresholdBytes of data, or when the memfd cannot be made or sealed, there is
// no image and the runner copies the segments as before.

#include <cstdint>
#include <memory>

#include "wasm/module_abi.h"

namespace ofwatchdog::wasm {

class CowImage {
public:
  static constexpr std::uint64_t kCowThresholdBytes = 256u << 10;

  // nullptr when the module's segments are below the threshold or the kernel refused.
  static std::unique_ptr<CowImage> build(const ofw_module_v1& module);

  ~CowImage();
  CowImage(const CowImage&) = delete;
  CowImage& operator=(const CowImage&) = delete;

  int fd() const { return fd_; }
  std::uint64_t bytes() const { return bytes_; } // a multiple of the page size
  // Unique in the process, so a slot never mistakes a new image for one it mapped before at
  // the same address.
  std::uint64_t id() const { return id_; }

private:
  CowImage(int fd, std::uint64_t bytes);
  int fd_;
  std::uint64_t bytes_;
  std::uint64_t id_;
};

} // namespace ofwatchdog::wasm
