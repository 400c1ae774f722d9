#include "wasm/compiled_module.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

#include "wasm/runtime_table.hpp"

namespace ofwatchdog::wasm {

#ifdef OFWATCHDOG_STATIC_BINARY
// A static executable has no dynamic loader of its own: glibc's static dlopen would bring in a
// second libc for the module's. Compiled modules are for the dynamic build (or a bundle).
bool CompiledModule::loadable() {
  return false;
}

LoadResult CompiledModule::load(const std::string& path, std::string_view) {
  return fmt::format("cannot load the compiled module {}: this static build loads no shared "
                     "objects; serve the module with wasm_engine=interpreter or auto",
                     path);
}

static void unload(void*) {}
#else
bool CompiledModule::loadable() {
  return true;
}

static void unload(void* handle) {
  dlclose(handle);
}

LoadResult CompiledModule::load(const std::string& path, std::string_view expected_sha256) {
  // RTLD_LOCAL: the module's symbols are hidden anyway; nothing of it may interpose on ours.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return fmt::format("cannot load the compiled module {}: {}", path, dlerror());
  }
  auto entry = reinterpret_cast<ofw_wasm_entry_v1>(dlsym(handle, OFW_WASM_ENTRY_POINT));
  if (entry == nullptr) {
    unload(handle);
    return fmt::format("{} is not a compiled module (no {})", path, OFW_WASM_ENTRY_POINT);
  }
  return bind(handle, entry, expected_sha256);
}
#endif

LoadResult CompiledModule::from_entry(ofw_wasm_entry_v1 entry, std::string_view expected_sha256) {
  return bind(nullptr, entry, expected_sha256);
}

LoadResult CompiledModule::bind(void* handle, ofw_wasm_entry_v1 entry,
                                std::string_view expected_sha256) {
  const ofw_module_v1* descriptor = entry(&runtime_table());
  std::string error;
  if (descriptor == nullptr || descriptor->abi_version != OFW_WASM_ABI_VERSION) {
    error = "the compiled module was built for another engine ABI version";
  } else if (!expected_sha256.empty() && expected_sha256 != descriptor->sha256) {
    error = fmt::format("the compiled module was built from {}, not {}", descriptor->sha256,
                        expected_sha256);
  }
  if (!error.empty()) {
    if (handle != nullptr) {
      unload(handle);
    }
    return error;
  }
  descriptor->init_module();
  return std::unique_ptr<CompiledModule>(new CompiledModule(handle, descriptor));
}

CompiledModule::~CompiledModule() {
  if (handle_ != nullptr) {
    unload(handle_);
  }
}

} // namespace ofwatchdog::wasm
