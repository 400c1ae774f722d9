#pragma once
// The ahead-of-time compile driver behind `of-watchdog wasm-compile` and the aot engine:
// module bytes in, a cached shared object out.
//
//   inspect (wasm-module-check) -> take the active data out -> wasm2c -> glue -> cc -shared
//   -> <cache>/<sha256>-<toolchain key>.so
//
// The key covers everything that changes the object: wasm2c's version, the compiler and its
// --version text, the flags, and the glue ABI version. Each compile works in its own temporary
// directory inside the cache and renames the finished object into place, so concurrent
// compiles of one module never leave a partial file: the last rename wins, with equal content.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasi/host_call.hpp"
#include "wasm/module_check.hpp"
#include "wasm/tool_run.hpp"

namespace ofwatchdog::wasm {

struct CompileOptions {
  // Empty: $CC (split on spaces, e.g. "ccache gcc"), or "cc".
  std::string compiler;
  // Optimisation and other free flags. What safety needs (-fPIC, the guard-page
  // memory checks, no stack-depth counting, -fstack-clash-protection, hidden symbols) is always
  // added.
  std::vector<std::string> flags = {"-O1"};
  std::string wasm2c = "wasm2c";
  // Keep the temporary directory (wasm2c's output, the glue) for debugging.
  bool keep_build_directory = false;
  // Another thread may stop the compile through this; it then fails.
  ToolCancel* cancel = nullptr;
};

struct Toolchain {
  std::vector<std::string> compiler; // the command, split
  std::string key;                   // 16 hex digits
};

// Runs `wasm2c --version` and the compiler's `--version`; the error says which tool failed.
std::optional<Toolchain> probe_toolchain(const CompileOptions& options, std::string* error);

struct CompileResult {
  std::optional<std::string> error; // set on failure: invalid module or a tool's failure
  bool invalid_module = false;      // the module's fault (wasm-module-check), not the toolchain's
  std::string object_path;          // <cache>/<sha256>-<key>.so
  std::string sha256;
  bool from_cache = false; // the object was there already
  double seconds = 0;      // wall time of wasm2c + cc (0 from the cache)
  // The host function behind each function import, in import order (set for a valid module,
  // whatever the toolchain did): what the module may call.
  std::vector<HostImport> imports;
};

CompileResult compile_module(std::span<const std::uint8_t> module, const std::string& cache_dir,
                             const CompileOptions& options = {});
// The whole file; the error names it.
std::optional<std::string> read_module_file(const std::string& path,
                                            std::vector<std::uint8_t>& bytes);

// Reads the file first; the error names it.
CompileResult compile_module_file(const std::string& module_path, const std::string& cache_dir,
                                  const CompileOptions& options = {});

// For `wasm-compile --bundle` (bundle_link.hpp): compiles the inspected module into
// `<build_dir>/module.o`, a relocatable object whose entry point is `entry_symbol`, for linking
// into an executable, with the toolchain probe_toolchain found for `options`. The error names
// the failing tool.
std::optional<std::string>
compile_bundle_object(std::span<const std::uint8_t> module, const InspectedModule& inspected,
                      const std::string& build_dir, std::string_view entry_symbol,
                      const Toolchain& toolchain, const CompileOptions& options = {});

// An object of the cache built from the module `sha256` by any toolchain, or empty: what a
// runtime image without a compiler serves once its build ran `of-watchdog wasm-compile`.
std::string find_compiled_module(const std::string& cache_dir, std::string_view sha256);

} // namespace ofwatchdog::wasm
