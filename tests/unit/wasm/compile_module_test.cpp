// The compile driver: the cache's naming and atomicity, the object's symbols, and compile time
// with a large data segment. These need wasm2c and a C compiler and fail, never skip, without.
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "unit/wasm/wasm_test_support.hpp"
#include "wasm/tool_run.hpp"

using namespace ofwatchdog::wasm;
using namespace ofwatchdog::wasm::testing;
using ofwatchdog::testing::TempDir;

namespace {
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}
} // namespace

TEST_CASE("a module compiles into <cache>/<sha256>-<key>.so, then comes from the cache",
          "[wasm][compile]") {
  TempDir cache("wasm-compile");
  auto started = std::chrono::steady_clock::now();
  CompileResult first = compile_module_file(fixture_path("echo"), cache.base);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO(first.error.value_or(""));
  REQUIRE_FALSE(first.error);
  WARN("compile time of the echo module (wasm2c + cc -O1): " << seconds << " s");
  CHECK_FALSE(first.from_cache);
  std::string name = std::filesystem::path(first.object_path).filename().string();
  CHECK(name.size() == 64 + 1 + 16 + 3);
  CHECK(name.substr(0, 64) == first.sha256);
  CHECK(std::filesystem::exists(first.object_path));
  // Nothing but the object is left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator(cache.base)) {
    ++entries;
  }
  CHECK(entries == 1);

  CompileResult second = compile_module_file(fixture_path("echo"), cache.base);
  REQUIRE_FALSE(second.error);
  CHECK(second.from_cache);
  CHECK(second.object_path == first.object_path);

  // Other flags, another key, another object.
  CompileOptions options;
  options.flags = {"-O0"};
  CompileResult other = compile_module_file(fixture_path("echo"), cache.base, options);
  REQUIRE_FALSE(other.error);
  CHECK(other.object_path != first.object_path);
}

TEST_CASE("the compiled object needs nothing but libc and exports one symbol", "[wasm][compile]") {
  CompileResult result = compile_module_file(fixture_path("echo"), shared_cache_dir());
  REQUIRE_FALSE(result.error);
  ToolResult undefined = run_tool({"nm", "-D", "--undefined-only", result.object_path});
  REQUIRE(undefined.succeeded());
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  void* libm = dlopen("libm.so.6", RTLD_NOW);
  REQUIRE(libc != nullptr);
  REQUIRE(libm != nullptr);
  for (const std::string& line : lines_of(undefined.output)) {
    std::string symbol = line.substr(line.find_last_of(' ') + 1);
    symbol = symbol.substr(0, symbol.find('@'));
    INFO("undefined symbol " << symbol);
    CHECK(symbol.rfind("Z_", 0) != 0);
    CHECK(symbol.rfind("wasm_rt_", 0) != 0);
    bool weak = line.find(" w ") != std::string::npos; // __cxa_finalize and the like
    CHECK(
        (weak || dlsym(libc, symbol.c_str()) != nullptr || dlsym(libm, symbol.c_str()) != nullptr));
  }
  ToolResult defined = run_tool({"nm", "-D", "--defined-only", result.object_path});
  REQUIRE(defined.succeeded());
  std::vector<std::string> ours;
  for (const std::string& line : lines_of(defined.output)) {
    ours.push_back(line.substr(line.find_last_of(' ') + 1));
  }
  CHECK(ours == std::vector<std::string>{"ofw_wasm_module_v1"});
  dlclose(libm);
  dlclose(libc);
}

TEST_CASE("a 4 MiB data segment compiles quickly and arrives in memory", "[wasm][compile][data]") {
  TempDir cache("wasm-big");
  CompileResult result = compile_module_file(fixture_path("big_data"), cache.base);
  INFO(result.error.value_or(""));
  REQUIRE_FALSE(result.error);
  WARN("compile time of the 4 MiB data module: " << result.seconds << " s");
  // As a C array the segment takes gcc minutes; embedded with .incbin, about as long as echo.
  CHECK(result.seconds < 30);

  FakeHost host;
  RunOutcome outcome = run_once("big_data", host);
  CHECK(outcome.succeeded());
  REQUIRE(host.output.size() == 8);
  CHECK(std::uint8_t(host.output[0]) == 0x11);
  CHECK(std::uint8_t(host.output[1]) == 0x22);
  CHECK(std::uint8_t(host.output[2]) == 0x5a);
  CHECK(std::uint8_t(host.output[3]) == 0x33);
  // The same checksum, computed here over the same array.
  std::vector<std::uint8_t> big(4u << 20, 0);
  big[0] = 0x11;
  big[1234567] = 0x22;
  big[big.size() / 2] = 0x5a;
  big[big.size() - 1] = 0x33;
  std::uint32_t sum = 0;
  for (std::uint8_t byte : big) {
    sum = sum * 31 + byte;
  }
  std::uint32_t reported = 0;
  std::memcpy(&reported, host.output.data() + 4, 4);
  CHECK(reported == sum);
}

TEST_CASE("concurrent compiles of one module share one intact object", "[wasm][compile]") {
  TempDir cache("wasm-race");
  CompileResult results[2];
  std::thread a([&] { results[0] = compile_module_file(fixture_path("exit_status"), cache.base); });
  std::thread b([&] { results[1] = compile_module_file(fixture_path("exit_status"), cache.base); });
  a.join();
  b.join();
  for (const CompileResult& result : results) {
    INFO(result.error.value_or(""));
    REQUIRE_FALSE(result.error);
  }
  CHECK(results[0].object_path == results[1].object_path);
  LoadResult loaded = CompiledModule::load(results[0].object_path, results[0].sha256);
  CHECK(std::holds_alternative<std::unique_ptr<CompiledModule>>(loaded));
  std::size_t entries = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator(cache.base)) {
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("compile failures say what failed", "[wasm][compile]") {
  TempDir cache("wasm-fail");
  CompileResult invalid = compile_module_file(fixture_path("invalid_env_import"), cache.base);
  REQUIRE(invalid.error);
  CHECK_THAT(*invalid.error,
             Catch::Contains("invalid_env_import.wasm") && Catch::Contains("\"env\".\"helper\""));

  CompileOptions no_wasm2c;
  no_wasm2c.wasm2c = "/nonexistent/wasm2c";
  CompileResult missing = compile_module_file(fixture_path("echo"), cache.base, no_wasm2c);
  REQUIRE(missing.error);
  CHECK_THAT(*missing.error, Catch::Contains("cannot run /nonexistent/wasm2c"));

  CompileOptions bad_flag;
  bad_flag.flags = {"-fno-such-flag-anywhere"};
  CompileResult refused = compile_module_file(fixture_path("echo"), cache.base, bad_flag);
  REQUIRE(refused.error);
  CHECK_THAT(*refused.error, Catch::Contains("failed (exit status"));

  LoadResult not_object = CompiledModule::load(fixture_path("echo"));
  CHECK(std::holds_alternative<std::string>(not_object));
}
