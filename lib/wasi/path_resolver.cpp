#include "wasi/path_resolver.hpp"

#include <fcntl.h>

#include <cstring>
#include <string_view>

#include "wasi/beneath.hpp"

namespace ofwatchdog::wasi {

abi::Errno read_guest_path(const GuestView& memory, std::uint32_t ptr, std::uint32_t len,
                           std::uint32_t max_bytes, std::string& path) {
  if (!memory.contains(ptr, len))
    return abi::Errno::fault;
  if (len > max_bytes)
    return abi::Errno::nametoolong;
  std::string_view text = memory.text(ptr, len);
  if (text.find('\0') != std::string_view::npos)
    return abi::Errno::ilseq;
  if (text.empty())
    return abi::Errno::noent;
  path.assign(text);
  return abi::Errno::success;
}

ResolvedPath resolve_path(const Descriptor& directory, const std::string& path,
                          const Sandbox& sandbox) {
  ResolvedPath resolved;
  if (directory.kind == Descriptor::Kind::directory) {
    resolved.layer = directory.layer;
    resolved.base = directory.host.get();
    resolved.path = path;
    return resolved;
  }
  if (path.front() == '/') {
    resolved.error = abi::Errno::notcapable;
    return resolved;
  }
  std::size_t start = 0;
  for (;;) {
    while (start < path.size() && path[start] == '/')
      ++start;
    if (start == path.size()) {
      resolved.names_root = true;
      return resolved;
    }
    std::size_t end = path.find('/', start);
    std::string_view first = std::string_view(path).substr(start, end - start);
    if (first == ".") {
      start += 1;
      continue;
    }
    if (first == "..") {
      resolved.error = abi::Errno::notcapable;
      return resolved;
    }
    resolved.layer = sandbox.has_data_entry(first) ? Layer::data : Layer::scratch;
    resolved.base = sandbox.layer_fd(resolved.layer);
    resolved.path = path.substr(start);
    return resolved;
  }
}

ParentAndName open_parent(const ResolvedPath& resolved) {
  ParentAndName result;
  const std::string& path = resolved.path;
  std::size_t end = path.find_last_not_of('/');
  if (end == std::string::npos) { // only slashes: an absolute path
    result.error = abi::Errno::notcapable;
    return result;
  }
  std::size_t slash = path.rfind('/', end);
  std::size_t name_start = slash == std::string::npos ? 0 : slash + 1;
  result.name = path.substr(name_start);
  std::string parent = name_start == 0 ? std::string(".") : path.substr(0, name_start);
  OpenResult opened = open_beneath(resolved.base, parent, O_PATH | O_DIRECTORY);
  result.error = opened.error;
  result.parent = std::move(opened.fd);
  return result;
}

} // namespace ofwatchdog::wasi
