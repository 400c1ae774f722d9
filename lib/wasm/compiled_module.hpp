#pragma once
// A compiled module ready to instantiate: the shared object the compile driver cached, opened
// with dlopen, or a descriptor linked into the binary (a static bundle), bound to the
// watchdog's runtime table.

#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "wasm/cow_image.hpp"
#include "wasm/module_abi.h"

namespace ofwatchdog::wasm {

class CompiledModule;
using LoadResult = std::variant<std::unique_ptr<CompiledModule>, std::string>;

class CompiledModule {
public:
  // Opens `path` (a `<sha256>-<key>.so` of the cache). With `expected_sha256`, refuses an
  // object built from another module.
  static LoadResult load(const std::string& path, std::string_view expected_sha256 = {});
  // False in the static build (scripts/build-static), which has no dynamic loader: `load`
  // then always fails, and mode=wasm serves modules on the interpreter.
  static bool loadable();
  // A module whose entry point is linked into the program.
  static LoadResult from_entry(ofw_wasm_entry_v1 entry, std::string_view expected_sha256 = {});

  ~CompiledModule();
  CompiledModule(const CompiledModule&) = delete;
  CompiledModule& operator=(const CompiledModule&) = delete;

  const ofw_module_v1& descriptor() const { return *descriptor_; }
  std::string_view sha256() const { return descriptor_->sha256; }
  // The initial memory as a copy-on-write image, for modules with much data; else nullptr and
  // the segments are copied per instance.
  const CowImage* image() const { return image_.get(); }

private:
  CompiledModule(void* handle, const ofw_module_v1* descriptor)
      : handle_(handle), descriptor_(descriptor), image_(CowImage::build(*descriptor)) {}
  static LoadResult bind(void* handle, ofw_wasm_entry_v1 entry, std::string_view expected_sha256);

  void* handle_; // from dlopen, or null
  const ofw_module_v1* descriptor_;
  std::unique_ptr<CowImage> image_;
};

} // namespace ofwatchdog::wasm
