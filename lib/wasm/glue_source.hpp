#pragma once
// The C file compiled with wasm2c's output into a module's shared object. It includes that
// output, so the whole object is one translation unit (one compiler run), and defines:
// - a check before every call_indirect that names an empty slot and an index past the table;
// - every WASI import as a trampoline packing its arguments into 64-bit slots for
//   ofw_runtime_v1::host_call, with the import's index in wasi_functions.def;
// - every wasm_rt_* function of wasm-rt.h as a forwarder into the runtime table, so the object
//   needs nothing but libc (wabt's own runtime library is not used);
// - the memory image, embedded with .incbin from a file beside it (no C array to compile);
// - the one exported symbol, the entry point (ofw_wasm_module_v1 in a shared object).

#include <string>
#include <string_view>

#include "wasm/data_extraction.hpp"
#include "wasm/module_check.hpp"

namespace ofwatchdog::wasm {

struct GlueInput {
  const InspectedModule* module = nullptr;
  const MemoryImage* image = nullptr;
  std::string_view wasm2c_source; // file name of wasm2c's C output, relative to the build dir
  std::string_view image_file;    // file name of the image blob, relative to the build dir
  std::string_view module_name;   // the name given to wasm2c with -n
  // The exported entry point: OFW_WASM_ENTRY_POINT in a shared object, a name of its own for
  // each module of a bundle.
  std::string_view entry_symbol;
};

std::string generate_glue(const GlueInput& input);

// Renames the call_indirect check in wasm2c's output, so that the glue's own check (which tells
// a slot past the table's end and an empty slot from a function of the wrong type) wraps it.
// Returns false, changing nothing, when the output has no such check; its traps then keep
// wasm2c's one name.
bool adapt_wasm2c_output(std::string& source);

// The text of module_abi.h (generated from it at build time).
extern const char kModuleAbiHeader[];

} // namespace ofwatchdog::wasm
