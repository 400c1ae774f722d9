// The public face of the compile driver and the bundle linker (ofwatchdog/wasm_compile.hpp);
// the wasm-compile command that reads a command line into them is the program's (cli/).
#include "ofwatchdog/wasm_compile.hpp"

#include "wasm/bundle_link.hpp"
#include "wasm/compile_module.hpp"

namespace ofwatchdog {

WasmCompileResult compile_wasm_module(const std::string& module_path,
                                      const std::string& cache_dir) {
  wasm::CompileResult compiled = wasm::compile_module_file(module_path, cache_dir);
  WasmCompileResult result;
  result.ok = !compiled.error;
  result.error = compiled.error.value_or("");
  result.object_path = compiled.object_path;
  result.sha256 = compiled.sha256;
  result.from_cache = compiled.from_cache;
  result.seconds = compiled.seconds;
  return result;
}

WasmBundleResult bundle_wasm_modules(const std::vector<std::string>& modules,
                                     const std::string& output, const std::string& kit_dir) {
  wasm::BundleRequest request;
  request.modules = modules;
  request.output = output;
  request.kit_dir = kit_dir;
  wasm::BundleResult linked = wasm::link_bundle(request);
  WasmBundleResult result;
  result.ok = !linked.error;
  result.error = linked.error.value_or("");
  for (const wasm::BundledModuleFile& module : linked.modules)
    result.sha256.push_back(module.sha256);
  result.seconds = linked.seconds;
  return result;
}

} // namespace ofwatchdog
