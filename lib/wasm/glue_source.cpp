#include "wasm/glue_source.hpp"

#include <fmt/format.h>

#include "gpu/cuda_imports.hpp"
#include "wasm/module_abi.h"
#include "wasm/wasi_signatures.hpp"

namespace ofwatchdog::wasm {
namespace {

// The forwarders for wasm-rt.h. wasm2c's output calls some of them; all are defined so that
// whatever a module needs is there and nothing is left undefined.
constexpr std::string_view kRuntimeForwarders = R"(
void wasm_rt_init(void) {}
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) {}
void wasm_rt_trap(wasm_rt_trap_t trap) {
  ofw_runtime->trap((uint32_t)trap);
  __builtin_unreachable();
}
const char* wasm_rt_strerror(wasm_rt_trap_t trap) {
  (void)trap;
  return "wasm trap";
}
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  wasm_rt_type_t types[params + results + 1];
  va_list list;
  va_start(list, results);
  for (uint32_t i = 0; i < params + results; ++i) {
    types[i] = (wasm_rt_type_t)va_arg(list, int);
  }
  va_end(list);
  return ofw_runtime->register_func_type(params, results, types);
}
void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial, uint32_t max) {
  ofw_runtime->allocate_memory(memory, initial, max);
}
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  return ofw_runtime->grow_memory(memory, delta);
}
void wasm_rt_free_memory(wasm_rt_memory_t* memory) { ofw_runtime->free_memory(memory); }
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table, uint32_t elements,
                                    uint32_t max_elements) {
  ofw_runtime->allocate_funcref_table(table, elements, max_elements);
}
void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* table) {
  ofw_runtime->free_funcref_table(table);
}
uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* table, uint32_t delta,
                                    wasm_rt_funcref_t init) {
  return ofw_runtime->grow_funcref_table(table, delta, &init);
}
void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* table, uint32_t elements,
                                      uint32_t max_elements) {
  ofw_runtime->allocate_externref_table(table, elements, max_elements);
}
void wasm_rt_free_externref_table(wasm_rt_externref_table_t* table) {
  ofw_runtime->free_externref_table(table);
}
uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t* table, uint32_t delta,
                                      wasm_rt_externref_t init) {
  return ofw_runtime->grow_externref_table(table, delta, init);
}
uint32_t wasm_rt_register_tag(uint32_t size) { return ofw_runtime->register_tag(size); }
void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void* values) {
  ofw_runtime->load_exception(tag, size, values);
}
void wasm_rt_throw(void) {
  ofw_runtime->throw_exception();
  __builtin_unreachable();
}
WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) { return ofw_runtime->get_unwind_target(); }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target) {
  ofw_runtime->set_unwind_target(target);
}
uint32_t wasm_rt_exception_tag(void) { return ofw_runtime->exception_tag(); }
uint32_t wasm_rt_exception_size(void) { return ofw_runtime->exception_size(); }
void* wasm_rt_exception(void) { return ofw_runtime->exception(); }
)";

// Comes before wasm2c's output. wasm2c fails a call_indirect with one trap whatever went wrong;
// this check runs first and names the two failures of the slot itself, leaving wasm2c's own
// check (renamed by adapt_wasm2c_output) only the wrong type. The index is a plain local
// variable of the generated code, so reading it twice is safe.
constexpr std::string_view kIndirectCallCheck = R"(
static const ofw_runtime_v1* ofw_runtime;

static inline void ofw_check_table_slot(const wasm_rt_funcref_table_t* table, uint32_t index) {
  if (index >= table->size) {
    ofw_runtime->trap(OFW_TRAP_TABLE_OUT_OF_BOUNDS);
  }
  if (!table->data[index].func) {
    ofw_runtime->trap(OFW_TRAP_UNDEFINED_ELEMENT);
  }
}
#define CALL_INDIRECT(table, t, ft, x, ...) \
  (ofw_check_table_slot(&(table), (x)), OFW_WASM2C_CALL_INDIRECT(table, t, ft, x, __VA_ARGS__))
)";

constexpr std::string_view kWasm2cIndirectCall = "\n#define CALL_INDIRECT(";
constexpr std::string_view kRenamedIndirectCall = "\n#define OFW_WASM2C_CALL_INDIRECT(";

const char* c_type(ValueType type) {
  return type == ValueType::i64 ? "u64" : "u32";
}

std::string trampoline(const WasiSignature& signature) {
  std::string parameters = "struct Z_wasi_snapshot_preview1_instance_t* host";
  std::string packed;
  for (std::size_t i = 0; i < signature.params.size(); ++i) {
    parameters += fmt::format(", {} p{}", c_type(signature.params[i]), i);
    packed += fmt::format("{}p{}", i == 0 ? "" : ", ", i);
  }
  std::string arguments = signature.params.empty() ? "0" : "args";
  std::string body = signature.params.empty() ? std::string()
                                              : fmt::format("  const uint64_t args[{}] = {{{}}};\n",
                                                            signature.params.size(), packed);
  auto index = static_cast<unsigned>(signature.function);
  if (signature.returns_i32) {
    return fmt::format("u32 Z_wasi_snapshot_preview1Z_{}({}) {{\n{}  return "
                       "ofw_runtime->host_call(host, {}, {});\n}}\n",
                       signature.name, parameters, body, index, arguments);
  }
  return fmt::format("void Z_wasi_snapshot_preview1Z_{}({}) {{\n{}  "
                     "ofw_runtime->host_call(host, {}, {});\n}}\n",
                     signature.name, parameters, body, index, arguments);
}

// A GPU guest's CUDA import (docs/wasm-gpu.md): every parameter and the result an i32, passed
// to the runtime's host_call under a number above the WASI functions' (kCudaCallBase).
std::string cuda_trampoline(const gpu::CudaImport& import) {
  std::string parameters = "struct Z_env_instance_t* host";
  std::string packed;
  for (unsigned i = 0; i < import.params; ++i) {
    parameters += fmt::format(", u32 p{}", i);
    packed += fmt::format("{}p{}", i == 0 ? "" : ", ", i);
  }
  std::string body = import.params == 0 ? std::string()
                                        : fmt::format("  const uint64_t args[{}] = {{{}}};\n",
                                                      import.params, packed);
  return fmt::format(
      "u32 Z_envZ_{}({}) {{\n{}  return ofw_runtime->host_call(host, {}u, {});\n}}\n", import.name,
      parameters, body, kCudaCallBase + static_cast<unsigned>(import.function),
      import.params == 0 ? "0" : "args");
}

} // namespace

bool adapt_wasm2c_output(std::string& source) {
  std::size_t at = source.find(kWasm2cIndirectCall);
  if (at == std::string::npos)
    return false;
  source.replace(at, kWasm2cIndirectCall.size(), kRenamedIndirectCall);
  return true;
}

std::string generate_glue(const GlueInput& input) {
  const InspectedModule& module = *input.module;
  const MemoryImage& image = *input.image;
  std::string name(input.module_name);
  std::string out;
  out += "/* Generated by of-watchdog wasm-compile: the glue between wasm2c's output and the\n"
         " * watchdog's runtime. Do not edit. */\n";
  out += "#include <stdarg.h>\n";
  out += kModuleAbiHeader;
  out += kIndirectCallCheck;
  out += fmt::format("#include \"{}\"\n", input.wasm2c_source);
  out += kRuntimeForwarders;

  out += "\n/* WASI imports, and a GPU guest's CUDA imports */\n";
  std::vector<bool> done(wasi::kFunctionCount, false);
  std::vector<bool> cuda_done(gpu::cuda_imports().size(), false);
  bool imports_wasi = false;
  bool imports_cuda = false;
  for (HostImport import : module.imports) {
    std::vector<bool>& seen = import.from == HostImport::From::cuda ? cuda_done : done;
    if (seen[import.index])
      continue;
    seen[import.index] = true;
    if (import.from == HostImport::From::cuda) {
      imports_cuda = true;
      out += cuda_trampoline(gpu::cuda_imports()[import.index]);
    } else {
      imports_wasi = true;
      out += trampoline(wasi_signatures()[import.index]);
    }
  }

  out += "\n/* The memory image */\n";
  if (!image.segments.empty()) {
    out += fmt::format("__asm__(\".section .rodata.ofw_image,\\\"a\\\",@progbits\\n\"\n"
                       "        \".balign 64\\n\"\n"
                       "        \".globl ofw_image\\n\"\n"
                       "        \".hidden ofw_image\\n\"\n"
                       "        \"ofw_image:\\n\"\n"
                       "        \".incbin \\\"{}\\\"\\n\"\n"
                       "        \".previous\\n\");\n",
                       input.image_file);
    out += "extern const uint8_t ofw_image[];\n";
    out += "static const ofw_data_segment_v1 ofw_segments[] = {\n";
    for (const ImageSegment& segment : image.segments) {
      out += fmt::format("  {{{}u, {}u, ofw_image + {}u}},\n", segment.guest_offset, segment.size,
                         segment.blob_offset);
    }
    out += "};\n";
  }
  std::string segments = image.segments.empty() ? "0" : "ofw_segments";

  // wasm2c passes one instance per imported module, in the order of the modules' names.
  std::string host_argument;
  if (imports_cuda)
    host_argument += ", (struct Z_env_instance_t*)host";
  if (imports_wasi)
    host_argument += ", (struct Z_wasi_snapshot_preview1_instance_t*)host";
  out += fmt::format(R"(
/* The descriptor */
static void ofw_instantiate(void* instance, void* host) {{
  (void)host;
  Z_{0}_instantiate((Z_{0}_instance_t*)instance{1});
}}
static void ofw_free(void* instance) {{ Z_{0}_free((Z_{0}_instance_t*)instance); }}
static wasm_rt_memory_t* ofw_memory(void* instance) {{
  return Z_{0}Z_memory((Z_{0}_instance_t*)instance);
}}
static void ofw_start(void* instance) {{ Z_{0}Z__start((Z_{0}_instance_t*)instance); }}

static const ofw_module_v1 ofw_module = {{
  OFW_WASM_ABI_VERSION,
  "{2}",
  sizeof(Z_{0}_instance_t),
  _Alignof(Z_{0}_instance_t),
  Z_{0}_init_module,
  ofw_instantiate,
  ofw_free,
  ofw_memory,
  ofw_start,
  {3}u,
  {4},
}};

__attribute__((visibility("default"))) const ofw_module_v1* {5}(
    const ofw_runtime_v1* runtime) {{
  if (runtime->abi_version != OFW_WASM_ABI_VERSION) {{
    return 0;
  }}
  ofw_runtime = runtime;
  return &ofw_module;
}}
)",
                     name, host_argument, module.sha256, image.segments.size(), segments,
                     input.entry_symbol.empty() ? std::string_view(OFW_WASM_ENTRY_POINT)
                                                : input.entry_symbol);
  return out;
}

} // namespace ofwatchdog::wasm
