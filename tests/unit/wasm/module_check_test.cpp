// Module inspection (docs/decisions.md, wasm-module-check): what the reader finds in a module, and
// every reason to refuse one.
#include <catch2/catch.hpp>

#include "unit/wasm/wasm_test_support.hpp"
#include "wasm/module_check.hpp"
#include "wasm/module_reader.hpp"
#include "wasm/sha256.hpp"

using namespace ofwatchdog::wasm;
using ofwatchdog::wasm::testing::read_fixture;

namespace {
std::string refusal(const std::string& fixture) {
  auto bytes = read_fixture(fixture);
  auto result = inspect_module(bytes);
  REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}
} // namespace

TEST_CASE("a clang-built WASI command passes inspection", "[wasm][inspect]") {
  auto bytes = read_fixture("echo");
  auto result = inspect_module(bytes);
  REQUIRE(std::holds_alternative<InspectedModule>(result));
  const InspectedModule& module = std::get<InspectedModule>(result);
  std::string error;
  CHECK(module.sha256 == sha256_hex(bytes, &error));
  CHECK(module.info.memories.size() == 1);
  const Export* start = module.info.find_export("_start");
  REQUIRE(start != nullptr);
  CHECK(start->kind == ExternalKind::function);
  // echo reads, writes and exits through WASI and nothing else.
  std::vector<ofwatchdog::wasi::Function> expected = {ofwatchdog::wasi::Function::fd_read,
                                                      ofwatchdog::wasi::Function::fd_write,
                                                      ofwatchdog::wasi::Function::proc_exit};
  std::vector<ofwatchdog::wasi::Function> imports;
  for (HostImport import : module.imports) {
    CHECK(import.from == HostImport::From::wasi);
    imports.push_back(import.wasi());
  }
  std::sort(imports.begin(), imports.end());
  CHECK(imports == expected);
}

TEST_CASE("the reader finds active and passive data segments", "[wasm][inspect]") {
  auto bytes = read_fixture("passive_data");
  auto read = read_module(bytes);
  REQUIRE(std::holds_alternative<ModuleInfo>(read));
  const ModuleInfo& info = std::get<ModuleInfo>(read);
  REQUIRE(info.data_segments.size() == 2);
  CHECK(info.data_segments[0].active);
  CHECK(info.data_segments[0].constant_offset == 100u);
  CHECK(info.data_segments[0].size == 5);
  CHECK(std::string(bytes.begin() + info.data_segments[0].bytes_offset,
                    bytes.begin() + info.data_segments[0].bytes_offset + 5) == "hello");
  CHECK_FALSE(info.data_segments[1].active);
  CHECK(info.data_segments[1].size == 4);
}

TEST_CASE("W1: each reason to refuse a module is named", "[wasm][inspect]") {
  CHECK_THAT(refusal("invalid_env_import"),
             Catch::Contains("\"env\".\"helper\"") && Catch::Contains("wasi_snapshot_preview1"));
  CHECK_THAT(refusal("invalid_wrong_signature"),
             Catch::Contains("fd_write") && Catch::Contains("(i32, i32) -> i32") &&
                 Catch::Contains("(i32, i32, i32, i32) -> i32"));
  CHECK_THAT(refusal("invalid_unknown_wasi"),
             Catch::Contains("fd_teleport") && Catch::Contains("not a WASI preview1 function"));
  CHECK_THAT(refusal("invalid_imported_memory"), Catch::Contains("\"memory\" is a memory"));
  CHECK_THAT(refusal("invalid_no_start"), Catch::Contains("no _start export"));
  CHECK_THAT(refusal("invalid_start_type"), Catch::Contains("(i32) -> ()"));
}

TEST_CASE("malformed binaries are refused, not misread", "[wasm][inspect]") {
  std::vector<std::uint8_t> text = {'h', 'e', 'l', 'l', 'o', '!', '!', '!'};
  CHECK_THAT(std::get<std::string>(inspect_module(text)), Catch::Contains("not a WebAssembly"));
  auto bytes = read_fixture("echo");
  // Every truncation is an error message, never a crash or a module.
  for (std::size_t size = 8; size < bytes.size(); size += 97) {
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + size);
    CHECK(std::holds_alternative<std::string>(inspect_module(cut)));
  }
}
