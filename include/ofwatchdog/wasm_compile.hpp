#pragma once
// Ahead-of-time compilation of WASI modules for mode=wasm, for image builds
// (docs/wasm-mode.md, docs/wasm-bundle.md):
// - into mode=wasm's cache (`of-watchdog wasm-compile MODULE [--cache DIR]`): the watchdog does
//   the same at start-up when the cache has no entry; an image whose build ran this needs no C
//   compiler at run time;
// - into a copy of the watchdog itself (`of-watchdog wasm-compile --bundle MODULE... -o
//   PROGRAM`): the module's compiled code is linked into the program, which then needs no
//   cache and no dynamic loader either, as the static build has none.

#include <string>
#include <vector>

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

struct OFWATCHDOG_API WasmBundleResult {
  bool ok = false;
  std::string error;               // why not (when !ok)
  std::vector<std::string> sha256; // of each module bundled, as given (repeats kept once)
  double seconds = 0;              // compiling and linking
};

// Compiles the modules and links them into `output`, a copy of the program the kit in
// `kit_dir` was made from (empty: the kit beside this program, <its directory>/bundle-kit).
OFWATCHDOG_API WasmBundleResult bundle_wasm_modules(const std::vector<std::string>& modules,
                                                    const std::string& output,
                                                    const std::string& kit_dir = {});

} // namespace ofwatchdog
