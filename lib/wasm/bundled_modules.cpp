#include "wasm/bundled_modules.hpp"

extern "C" {
// Defined by the registry object of a bundle; weak, so that a program without one links with
// the address null. Hidden: a shared library never looks for it in another object.
extern const ofw_bundle_v1 OFW_WASM_BUNDLE_SYMBOL __attribute__((weak, visibility("hidden")));
}

namespace ofwatchdog::wasm {
namespace {

const ofw_bundle_v1* bundle() {
  const ofw_bundle_v1* table = &OFW_WASM_BUNDLE_SYMBOL;
  // A bundle linked from another engine ABI is not ours to call.
  if (table == nullptr || table->abi_version != OFW_WASM_ABI_VERSION)
    return nullptr;
  return table;
}

} // namespace

ofw_wasm_entry_v1 bundled_entry(std::string_view sha256) {
  const ofw_bundle_v1* table = bundle();
  for (std::uint32_t i = 0; table != nullptr && i < table->count; ++i)
    if (sha256 == table->modules[i].sha256)
      return table->modules[i].entry;
  return nullptr;
}

} // namespace ofwatchdog::wasm
