#pragma once
// A whole file of a guest's sandbox, read by the host on the guest's behalf (a GPU guest's
// cuModuleLoad, docs/wasm-gpu.md) with the rules the guest's own open would meet: the path is
// taken from the guest's `/` (the preopen wasi-libc resolves relative paths against), its first
// component picks the layer, and the rest resolves strictly beneath it (path_resolver.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "wasi/abi.hpp"
#include "wasi/sandbox.hpp"

namespace ofwatchdog::wasi {

// The file's bytes, or why not: ENOENT, ENOTCAPABLE for a path that would leave the sandbox,
// EISDIR, EFBIG when it is longer than `limit` bytes.
std::variant<std::string, abi::Errno> read_sandbox_file(const Sandbox& sandbox,
                                                        std::string_view path, std::uint64_t limit);

} // namespace ofwatchdog::wasi
