#pragma once
// Active data segments taken out of a module before wasm2c sees it. wasm2c turns every segment
// into a C array, and a compiler takes minutes over a 17 MB array; the bytes are instead kept as
// a memory image, which the glue embeds with the assembler's .incbin and the runner copies into
// a fresh memory after wasm2c's instantiation, which then copies nothing.
//
// Each extracted segment stays in the module as an empty segment at the same offset: segment
// indices (used by memory.init and data.drop for passive segments) and the data count section
// stay valid, and wasm2c's own bounds check of the offset still runs.

#include <cstdint>
#include <span>
#include <vector>

#include "wasm/module_info.hpp"

namespace ofwatchdog::wasm {

struct ImageSegment {
  std::uint32_t guest_offset = 0; // where the bytes go in linear memory
  std::uint64_t blob_offset = 0;  // where they are in MemoryImage::blob
  std::uint32_t size = 0;
};

struct MemoryImage {
  std::vector<ImageSegment> segments; // in module order: a later one overwrites an earlier one
  std::vector<std::uint8_t> blob;
};

struct ExtractedData {
  std::vector<std::uint8_t> module; // the module to give wasm2c
  MemoryImage image;
};

// Extracts when it cannot change behaviour: every active segment has a constant offset into
// memory 0 and the module has no start function (which wasm2c runs inside instantiation, before
// the image could be applied). Otherwise the module is returned whole with an empty image.
ExtractedData extract_active_data(std::span<const std::uint8_t> bytes, const ModuleInfo& info);

} // namespace ofwatchdog::wasm
