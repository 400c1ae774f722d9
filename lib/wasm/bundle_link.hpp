#pragma once
// `of-watchdog wasm-compile --bundle MODULE... -o PROGRAM`: compiles modules ahead of time and
// links them into a copy of the watchdog itself, so that an image needs neither a C compiler
// nor a dynamic loader at run time (the static build has none).
//
//   each module: inspect (module check) -> wasm2c -> glue -> cc -c -> objcopy --localize-hidden
//   a registry (ofw_wasm_bundle_v1: sha256 -> entry point)
//   the kit's link command, with the registry and the modules' objects after the program's main
//
// The kit is what the watchdog's own link used, kept by scripts/make-bundle-kit beside the
// program (<program dir>/bundle-kit): `link.args`, one argument a line, where `@OUTPUT@` is the
// program to write, `@BUNDLE@` the bundle's objects and `@KIT@` the kit's directory; and the
// objects and archives it names. docs/wasm-bundle.md says more.

#include <optional>
#include <string>
#include <vector>

#include "wasm/compile_module.hpp"

namespace ofwatchdog::wasm {

struct BundleRequest {
  std::vector<std::string> modules; // module files; one built from the same bytes is kept once
  std::string output;               // the program to write (replaced atomically)
  std::string kit_dir;              // empty: bundle_kit_beside_program()
  CompileOptions options;           // the modules' compiler and flags
  std::string objcopy;              // empty: $OBJCOPY, or objcopy
};

struct BundledModuleFile {
  std::string path;
  std::string sha256;
};

struct BundleResult {
  std::optional<std::string> error; // names the module, the kit or the failing tool
  std::vector<BundledModuleFile> modules;
  double seconds = 0;
};

BundleResult link_bundle(const BundleRequest& request);

// `<directory of this program>/bundle-kit`, where scripts/build-static leaves it.
std::string bundle_kit_beside_program();

} // namespace ofwatchdog::wasm
