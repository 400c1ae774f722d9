#include "interp/interpreted_module.hpp"

#include <wabt/binary-reader.h>
#include <wabt/error-formatter.h>
#include <wabt/error.h>
#include <wabt/interp/binary-reader-interp.h>

#include <utility>

#include "interp/module_parts.hpp"

namespace ofwatchdog::interp {

InterpretLoad InterpretedModule::load(const std::uint8_t* bytes, std::size_t size,
                                      InspectedImports inspected) {
  auto parts = std::make_unique<ModuleParts>();
  // wabt's default features are those wasm2c translates by default, so both engines accept
  // the same modules.
  wabt::ReadBinaryOptions options(parts->features, nullptr, /*read_debug_names=*/false,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/false);
  wabt::Errors errors;
  if (wabt::Failed(wabt::interp::ReadBinaryInterp("module.wasm", bytes, size, options, &errors,
                                                  &parts->desc))) {
    std::string text = wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
      text.pop_back();
    return "invalid module: " + (text.empty() ? std::string("cannot be decoded") : text);
  }
  const wabt::interp::ModuleDesc& desc = parts->desc;
  if (desc.imports.size() != inspected.imports.size() || desc.memories.size() != 1)
    return std::string("invalid module: its imports or memories are not those inspected");
  bool have_start = false, have_memory = false;
  for (wabt::interp::Index i = 0; i < desc.exports.size(); ++i) {
    const wabt::interp::ExportType& type = desc.exports[i].type;
    if (type.name == "_start" && type.type->kind == wabt::interp::ExternKind::Func) {
      parts->start_export = i;
      have_start = true;
    } else if (type.name == "memory" && type.type->kind == wabt::interp::ExternKind::Memory) {
      parts->memory_export = i;
      have_memory = true;
    }
  }
  if (!have_start || !have_memory)
    return std::string("invalid module: no _start function or no memory export");
  parts->initial_pages = desc.memories[0].type.limits.initial;
  parts->sha256 = std::move(inspected.sha256);
  parts->imports = std::move(inspected.imports);
  return std::unique_ptr<InterpretedModule>(new InterpretedModule(std::move(parts)));
}

InterpretedModule::InterpretedModule(std::unique_ptr<ModuleParts> parts)
    : parts_(std::move(parts)) {}

InterpretedModule::~InterpretedModule() = default;

const std::string& InterpretedModule::sha256() const {
  return parts_->sha256;
}

} // namespace ofwatchdog::interp
