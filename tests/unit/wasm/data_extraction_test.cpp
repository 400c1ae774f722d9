// Active data segments leave the module for the memory image; passive ones stay.
#include <catch2/catch.hpp>

#include "unit/wasm/wasm_test_support.hpp"
#include "wasm/data_extraction.hpp"
#include "wasm/module_reader.hpp"

using namespace ofwatchdog::wasm;
using ofwatchdog::wasm::testing::read_fixture;

TEST_CASE("active segments become empty ones and their bytes the image", "[wasm][data]") {
  auto bytes = read_fixture("passive_data");
  const ModuleInfo info = std::get<ModuleInfo>(read_module(bytes));
  ExtractedData extracted = extract_active_data(bytes, info);
  REQUIRE(extracted.image.segments.size() == 1);
  CHECK(extracted.image.segments[0].guest_offset == 100);
  CHECK(std::string(extracted.image.blob.begin(), extracted.image.blob.end()) == "hello");
  CHECK(extracted.module.size() == bytes.size() - 5);

  auto reread = read_module(extracted.module);
  REQUIRE(std::holds_alternative<ModuleInfo>(reread));
  const ModuleInfo& stripped = std::get<ModuleInfo>(reread);
  REQUIRE(stripped.data_segments.size() == 2);
  CHECK(stripped.data_segments[0].active);
  CHECK(stripped.data_segments[0].constant_offset == 100u);
  CHECK(stripped.data_segments[0].size == 0);
  CHECK(stripped.data_segments[1].size == 4); // the passive segment, whole
  CHECK(stripped.exports.size() == info.exports.size());
}

TEST_CASE("a 4 MiB segment leaves the module", "[wasm][data]") {
  auto bytes = read_fixture("big_data");
  REQUIRE(bytes.size() > (4u << 20));
  const ModuleInfo info = std::get<ModuleInfo>(read_module(bytes));
  ExtractedData extracted = extract_active_data(bytes, info);
  CHECK(extracted.module.size() < 64 * 1024);
  CHECK(extracted.image.blob.size() >= (4u << 20));
}
