#pragma once
// What the engine needs to know about a module before compiling or running it, as read from
// its binary by `read_module` (module_reader.hpp). Offsets are byte positions in that binary,
// so the data section can be rewritten without re-encoding what surrounds it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ofwatchdog::wasm {

// Value types as the binary format encodes them.
enum class ValueType : std::uint8_t {
  i32 = 0x7f,
  i64 = 0x7e,
  f32 = 0x7d,
  f64 = 0x7c,
  v128 = 0x7b,
  funcref = 0x70,
  externref = 0x6f,
};

struct FuncType {
  std::vector<ValueType> params;
  std::vector<ValueType> results;
  bool operator==(const FuncType&) const = default;
};

enum class ExternalKind : std::uint8_t { function = 0, table = 1, memory = 2, global = 3, tag = 4 };

struct Import {
  std::string module;
  std::string name;
  ExternalKind kind = ExternalKind::function;
  std::uint32_t type_index = 0; // functions only
};

struct Export {
  std::string name;
  ExternalKind kind = ExternalKind::function;
  std::uint32_t index = 0;
};

struct MemoryLimits {
  std::uint64_t min_pages = 0;
  std::optional<std::uint64_t> max_pages;
  bool shared = false;
  bool memory64 = false;
};

struct DataSegment {
  bool active = false;
  std::uint32_t memory_index = 0;
  // An active segment's offset when it is one `i32.const`; empty for any other expression.
  std::optional<std::uint32_t> constant_offset;
  std::size_t header_begin = 0; // where the segment's encoding starts (its flags)
  std::size_t bytes_begin = 0;  // where its byte vector's length prefix starts
  std::size_t bytes_offset = 0; // where the bytes themselves start
  std::size_t size = 0;
};

struct Section {
  std::uint8_t id = 0;
  std::size_t begin = 0;         // the id byte
  std::size_t content_begin = 0; // after the size
  std::size_t end = 0;
};

struct ModuleInfo {
  std::vector<FuncType> types;
  std::vector<Import> imports;
  std::vector<std::uint32_t> function_types; // type index of each defined function
  std::vector<MemoryLimits> memories;        // defined memories (imports are in `imports`)
  std::vector<Export> exports;
  std::vector<DataSegment> data_segments;
  std::optional<std::uint32_t> start_function;
  std::optional<Section> data_section;
  std::uint32_t imported_function_count = 0;

  // The type of a function by its index in the function index space (imports first).
  const FuncType* function_type(std::uint32_t function_index) const;
  const Export* find_export(std::string_view name) const;
};

} // namespace ofwatchdog::wasm
