#pragma once
// A module read for wabt's interpreter: its code decoded and validated once, at load (about a
// millisecond for a small module), then shared read-only by every worker's InterpreterRunner.
// It needs no compiler and no cache, so mode=wasm can serve the moment it starts (wasm-engines).
//
// This folder is compiled as C++17, the newest standard wabt 1.0.32's headers accept, so its
// headers use nothing newer and none of them includes wabt.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "wasm/host_import.hpp"

namespace ofwatchdog::interp {

// What inspect_module (wasm/module_check.hpp) found: the module is one wasm-module-check allows.
struct InspectedImports {
  std::string sha256;
  std::vector<wasm::HostImport> imports; // the host function of each function import, in order
};

struct ModuleParts; // wabt's types; interp/module_parts.hpp

class InterpretedModule;
using InterpretLoad = std::variant<std::unique_ptr<InterpretedModule>, std::string>;

class InterpretedModule {
public:
  // `bytes` must be a module inspect_module accepted; the error says why wabt's reader (which
  // validates every function body) refused it.
  static InterpretLoad load(const std::uint8_t* bytes, std::size_t size,
                            InspectedImports inspected);
  ~InterpretedModule();
  InterpretedModule(const InterpretedModule&) = delete;
  InterpretedModule& operator=(const InterpretedModule&) = delete;

  const std::string& sha256() const;
  const ModuleParts& parts() const { return *parts_; }

private:
  explicit InterpretedModule(std::unique_ptr<ModuleParts> parts);
  std::unique_ptr<ModuleParts> parts_;
};

} // namespace ofwatchdog::interp
