// The public face of the compile driver (ofwatchdog/wasm_compile.hpp).
#include "ofwatchdog/wasm_compile.hpp"

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

} // namespace ofwatchdog
