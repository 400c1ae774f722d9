#include "wasm/module_reader.hpp"

#include <fmt/format.h>

#include "wasm/byte_reader.hpp"

namespace ofwatchdog::wasm {

const FuncType* ModuleInfo::function_type(std::uint32_t function_index) const {
  std::uint32_t type_index = 0;
  if (function_index < imported_function_count) {
    std::uint32_t seen = 0;
    for (const Import& import : imports) {
      if (import.kind == ExternalKind::function && seen++ == function_index) {
        type_index = import.type_index;
        break;
      }
    }
  } else if (function_index - imported_function_count < function_types.size()) {
    type_index = function_types[function_index - imported_function_count];
  } else {
    return nullptr;
  }
  return type_index < types.size() ? &types[type_index] : nullptr;
}

const Export* ModuleInfo::find_export(std::string_view name) const {
  for (const Export& entry : exports) {
    if (entry.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

namespace {

constexpr std::uint8_t kEnd = 0x0b;
constexpr std::uint8_t kI32Const = 0x41;

bool is_value_type(std::uint8_t byte) {
  return byte == 0x7f || byte == 0x7e || byte == 0x7d || byte == 0x7c || byte == 0x7b ||
         byte == 0x70 || byte == 0x6f;
}

// Limits as memories use them: flags bit 0 = has max, bit 1 = shared, bit 2 = 64-bit.
MemoryLimits read_limits(ByteReader& in) {
  MemoryLimits limits;
  std::uint8_t flags = in.byte();
  limits.shared = (flags & 2) != 0;
  limits.memory64 = (flags & 4) != 0;
  limits.min_pages = in.u32();
  if (flags & 1) {
    limits.max_pages = in.u32();
  }
  return limits;
}

// A constant expression; returns the offset when it is exactly `i32.const N end`.
std::optional<std::uint32_t> read_offset_expression(ByteReader& in) {
  std::size_t start = in.position();
  std::uint8_t op = in.byte();
  if (op == kI32Const) {
    auto value = static_cast<std::uint32_t>(in.signed_leb(32));
    if (in.byte() == kEnd) {
      return value;
    }
  }
  // Anything else (global.get, extended constants): skip to the end opcode. Such operands
  // never contain the end byte in the forms valid for an offset of a module without globals
  // imports, which wasm-module-check already excludes; the segment is then kept in the module.
  in.seek(start);
  while (!in.failed() && in.byte() != kEnd) {
  }
  return std::nullopt;
}

std::string section_error(std::uint8_t id, const char* what) {
  return fmt::format("malformed module: section {} is {}", id, what);
}

} // namespace

ReadResult read_module(std::span<const std::uint8_t> bytes) {
  static constexpr std::uint8_t kMagic[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  if (bytes.size() < 8 || !std::equal(kMagic, kMagic + 4, bytes.begin())) {
    return std::string("not a WebAssembly module (no \\0asm header)");
  }
  if (!std::equal(kMagic + 4, kMagic + 8, bytes.begin() + 4)) {
    return std::string("unsupported WebAssembly binary version (only version 1 is supported)");
  }
  ModuleInfo info;
  ByteReader module(bytes, 8, bytes.size());
  while (!module.at_end()) {
    Section section;
    section.begin = module.position();
    section.id = module.byte();
    std::uint32_t size = module.u32();
    if (module.failed() || size > module.remaining()) {
      return fmt::format("malformed module: section at byte {} is truncated", section.begin);
    }
    section.content_begin = module.position();
    section.end = section.content_begin + size;
    module.skip(size);
    ByteReader in(bytes, section.content_begin, section.end);

    switch (section.id) {
    case 1: { // types
      std::uint32_t count = in.u32();
      for (std::uint32_t i = 0; i < count && !in.failed(); ++i) {
        if (in.byte() != 0x60) {
          return section_error(1, "not a list of function types");
        }
        FuncType type;
        for (int list = 0; list < 2; ++list) {
          std::uint32_t n = in.u32();
          for (std::uint32_t k = 0; k < n && !in.failed(); ++k) {
            std::uint8_t value = in.byte();
            if (!is_value_type(value)) {
              return section_error(1, "using an unknown value type");
            }
            (list == 0 ? type.params : type.results).push_back(ValueType(value));
          }
        }
        info.types.push_back(std::move(type));
      }
      break;
    }
    case 2: { // imports
      std::uint32_t count = in.u32();
      for (std::uint32_t i = 0; i < count && !in.failed(); ++i) {
        Import import;
        import.module = std::string(in.name());
        import.name = std::string(in.name());
        std::uint8_t kind = in.byte();
        switch (kind) {
        case 0:
          import.type_index = in.u32();
          ++info.imported_function_count;
          break;
        case 1:
          in.byte(); // element type
          read_limits(in);
          break;
        case 2:
          read_limits(in);
          break;
        case 3:
          in.byte();
          in.byte();
          break;
        case 4:
          in.byte();
          in.u32();
          break;
        default:
          return section_error(2, "using an unknown import kind");
        }
        import.kind = ExternalKind(kind);
        info.imports.push_back(std::move(import));
      }
      break;
    }
    case 3: { // functions
      std::uint32_t count = in.u32();
      for (std::uint32_t i = 0; i < count && !in.failed(); ++i) {
        info.function_types.push_back(in.u32());
      }
      break;
    }
    case 5: { // memories
      std::uint32_t count = in.u32();
      for (std::uint32_t i = 0; i < count && !in.failed(); ++i) {
        info.memories.push_back(read_limits(in));
      }
      break;
    }
    case 7: { // exports
      std::uint32_t count = in.u32();
      for (std::uint32_t i = 0; i < count && !in.failed(); ++i) {
        Export entry;
        entry.name = std::string(in.name());
        entry.kind = ExternalKind(in.byte());
        entry.index = in.u32();
        info.exports.push_back(std::move(entry));
      }
      break;
    }
    case 8: // start
      info.start_function = in.u32();
      break;
    case 11: { // data
      info.data_section = section;
      std::uint32_t count = in.u32();
      for (std::uint32_t i = 0; i < count && !in.failed(); ++i) {
        DataSegment segment;
        segment.header_begin = in.position();
        std::uint32_t flags = in.u32();
        if (flags > 2) {
          return section_error(11, "using an unknown data segment kind");
        }
        segment.active = flags != 1;
        if (flags == 2) {
          segment.memory_index = in.u32();
        }
        if (segment.active) {
          segment.constant_offset = read_offset_expression(in);
        }
        segment.bytes_begin = in.position();
        auto data = in.vector();
        segment.bytes_offset =
            segment.bytes_begin + (in.position() - segment.bytes_begin) - data.size();
        segment.size = data.size();
        info.data_segments.push_back(segment);
      }
      break;
    }
    default: // custom sections, tables, globals, elements, code, data count, tags
      continue;
    }
    if (in.failed()) {
      return section_error(section.id, "truncated or malformed");
    }
    if (!in.at_end()) {
      return section_error(section.id, "longer than its contents");
    }
  }
  return info;
}

} // namespace ofwatchdog::wasm
