#pragma once
// Ahead-of-time compilation of a WASI module into mode=wasm's cache, for image builds
// (`of-watchdog wasm-compile MODULE [--cache DIR]`, docs/wasm-mode.md). The watchdog does the
// same at start-up when the cache has no entry; an image whose build ran this needs no C
// compiler at run time.

#include <string>

#include "ofwatchdog/export.hpp"

namespace ofwatchdog {

struct OFWATCHDOG_API WasmCompileResult {
  bool ok = false;
  std::string error;       // why not, naming the module (when !ok)
  std::string object_path; // the cache entry
  std::string sha256;      // of the module file
  bool from_cache = false; // the entry was there already
  double seconds = 0;      // translating and compiling (0 from the cache)
};

// Translates `module_path` with wasm2c and compiles it with $CC (or cc) into `cache_dir`,
// atomically; a valid entry already there is kept.
OFWATCHDOG_API WasmCompileResult compile_wasm_module(const std::string& module_path,
                                                     const std::string& cache_dir);

} // namespace ofwatchdog
