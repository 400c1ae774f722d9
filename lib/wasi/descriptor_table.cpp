#include "wasi/descriptor_table.hpp"

namespace ofwatchdog::wasi {

namespace {

Descriptor stream(Descriptor::Kind kind, abi::Rights rights) {
  Descriptor descriptor;
  descriptor.kind = kind;
  // A pipe has no WASI file type. Not reporting a character device also keeps wasi-libc's
  // isatty() false, so the guest's stdout is fully buffered, as with a pipe.
  descriptor.filetype = abi::Filetype::unknown;
  descriptor.rights_base = rights;
  return descriptor;
}

} // namespace

DescriptorTable::DescriptorTable() {
  slots_.reserve(kRootFd + 1);
  slots_.emplace_back(stream(Descriptor::Kind::stdin_stream, rights_of::kStdin));
  slots_.emplace_back(stream(Descriptor::Kind::stdout_stream, rights_of::kStdout));
  slots_.emplace_back(stream(Descriptor::Kind::stderr_stream, rights_of::kStdout));
  Descriptor root;
  root.kind = Descriptor::Kind::root;
  root.filetype = abi::Filetype::directory;
  root.rights_base = rights_of::kDirectory;
  root.rights_inheriting = rights_of::kDirectory | rights_of::kFile;
  root.preopen = true;
  slots_.emplace_back(std::move(root));
}

Descriptor* DescriptorTable::find(std::uint64_t fd) {
  if (fd >= slots_.size() || !slots_[fd])
    return nullptr;
  return &*slots_[fd];
}

std::optional<std::uint32_t> DescriptorTable::free_number() const {
  for (std::uint32_t fd = 0; fd < slots_.size(); ++fd)
    if (!slots_[fd])
      return fd;
  if (slots_.size() < kMaxDescriptors)
    return static_cast<std::uint32_t>(slots_.size());
  return std::nullopt;
}

void DescriptorTable::install(std::uint32_t fd, Descriptor descriptor) {
  if (fd >= slots_.size())
    slots_.resize(fd + 1);
  slots_[fd] = std::move(descriptor);
}

bool DescriptorTable::close(std::uint64_t fd) {
  if (find(fd) == nullptr)
    return false;
  slots_[fd].reset();
  // Trailing free slots are dropped so that free_number stays short for the common case.
  while (!slots_.empty() && !slots_.back())
    slots_.pop_back();
  return true;
}

bool DescriptorTable::renumber(std::uint64_t from, std::uint64_t to) {
  if (find(from) == nullptr || find(to) == nullptr)
    return false;
  if (from != to) {
    slots_[to] = std::move(slots_[from]);
    close(from);
  }
  return true;
}

void DescriptorTable::clear() {
  slots_.clear();
}

} // namespace ofwatchdog::wasi
