#include "wasm/data_extraction.hpp"

namespace ofwatchdog::wasm {
namespace {

void append_leb(std::vector<std::uint8_t>& out, std::uint64_t value) {
  do {
    std::uint8_t byte = value & 0x7f;
    value >>= 7;
    out.push_back(value != 0 ? byte | 0x80 : byte);
  } while (value != 0);
}

bool can_extract(const ModuleInfo& info) {
  if (info.start_function || !info.data_section) {
    return false;
  }
  for (const DataSegment& segment : info.data_segments) {
    if (segment.active && (!segment.constant_offset || segment.memory_index != 0)) {
      return false;
    }
  }
  return true;
}

} // namespace

ExtractedData extract_active_data(std::span<const std::uint8_t> bytes, const ModuleInfo& info) {
  ExtractedData out;
  if (!can_extract(info)) {
    out.module.assign(bytes.begin(), bytes.end());
    return out;
  }
  if (info.data_segments.empty()) {
    out.module.assign(bytes.begin(), bytes.end());
    return out;
  }
  const Section& section = *info.data_section;
  // The new section's content: the segment count as it was, then each segment's header
  // verbatim, and its bytes only when it is passive.
  std::vector<std::uint8_t> content(bytes.begin() + section.content_begin,
                                    bytes.begin() + info.data_segments.front().header_begin);
  for (const DataSegment& segment : info.data_segments) {
    content.insert(content.end(), bytes.begin() + segment.header_begin,
                   bytes.begin() + segment.bytes_begin);
    if (segment.active) {
      append_leb(content, 0);
      if (segment.size > 0) {
        out.image.segments.push_back({*segment.constant_offset, out.image.blob.size(),
                                      static_cast<std::uint32_t>(segment.size)});
        out.image.blob.insert(out.image.blob.end(), bytes.begin() + segment.bytes_offset,
                              bytes.begin() + segment.bytes_offset + segment.size);
      }
    } else {
      content.insert(content.end(), bytes.begin() + segment.bytes_begin,
                     bytes.begin() + segment.bytes_offset + segment.size);
    }
  }
  out.module.reserve(bytes.size() - (section.end - section.begin) + content.size() + 6);
  out.module.assign(bytes.begin(), bytes.begin() + section.begin);
  out.module.push_back(11);
  append_leb(out.module, content.size());
  out.module.insert(out.module.end(), content.begin(), content.end());
  out.module.insert(out.module.end(), bytes.begin() + section.end, bytes.end());
  return out;
}

} // namespace ofwatchdog::wasm
