// ModeRegistry's table; the built-in entries are in lib/modes/builtin_modes.cpp.
#include "ofwatchdog/mode_registry.hpp"

namespace ofwatchdog {

void ModeRegistry::add(ModeDescriptor mode) {
  for (ModeDescriptor& existing : modes_) {
    if (existing.name == mode.name) {
      existing = std::move(mode);
      return;
    }
  }
  modes_.push_back(std::move(mode));
}

const ModeDescriptor* ModeRegistry::find(std::string_view name) const {
  for (const ModeDescriptor& mode : modes_) {
    if (mode.name == name)
      return &mode;
  }
  return nullptr;
}

std::vector<std::string> ModeRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(modes_.size());
  for (const ModeDescriptor& mode : modes_)
    out.push_back(mode.name);
  return out;
}

} // namespace ofwatchdog
