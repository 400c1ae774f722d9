#include "wasi/iovecs.hpp"

#include <limits>

namespace ofwatchdog::wasi {

abi::Errno load_iovecs(const GuestView& memory, std::uint32_t ptr, std::uint32_t count,
                       std::vector<::iovec>& ranges) {
  ranges.clear();
  if (!memory.contains_array(ptr, count, sizeof(abi::Iovec)))
    return abi::Errno::fault;
  std::uint64_t total = 0;
  bool full = false; // once an entry is left out, so are all after it: bytes stay in order
  for (std::uint32_t i = 0; i < count; ++i) {
    abi::Iovec entry = *memory.load<abi::Iovec>(ptr + std::uint64_t{i} * sizeof(abi::Iovec));
    if (!memory.contains(entry.buf, entry.buf_len))
      return abi::Errno::fault;
    // Entries past the limits are still checked (above), only not used.
    if (entry.buf_len == 0 || full)
      continue;
    if (ranges.size() == kMaxIovecs ||
        total + entry.buf_len > std::numeric_limits<std::uint32_t>::max()) {
      full = true;
      continue;
    }
    total += entry.buf_len;
    std::span<std::uint8_t> bytes = memory.bytes(entry.buf, entry.buf_len);
    ranges.push_back({bytes.data(), bytes.size()});
  }
  return abi::Errno::success;
}

} // namespace ofwatchdog::wasi
