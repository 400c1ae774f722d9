// args_*, environ_*, clock_*, random_get: what the guest learns of its process.
#include <sys/random.h>

#include <cerrno>
#include <ctime>
#include <limits>

#include "wasi/host.hpp"
#include "wasi/host_errno.hpp"
#include "wasi/host_stat.hpp"

namespace ofwatchdog::wasi {

namespace {

// The host clock behind each WASI clock; false for an id preview1 does not define.
bool host_clock(std::uint32_t id, clockid_t& clock) {
  switch (static_cast<abi::ClockId>(id)) {
  case abi::ClockId::realtime:
    clock = CLOCK_REALTIME;
    return true;
  case abi::ClockId::monotonic:
    clock = CLOCK_MONOTONIC;
    return true;
  case abi::ClockId::process_cputime:
    clock = CLOCK_PROCESS_CPUTIME_ID;
    return true;
  case abi::ClockId::thread_cputime:
    clock = CLOCK_THREAD_CPUTIME_ID;
    return true;
  }
  return false;
}

} // namespace

// The layout both args_get and environ_get fill: `count` pointers, then the strings, each
// NUL-terminated, back to back in the buffer the pointers point into.
Host::Errno Host::strings_sizes_get(const std::vector<std::string>& strings,
                                    const GuestView& memory, std::uint32_t count_ptr,
                                    std::uint32_t size_ptr) {
  std::uint64_t size = 0;
  for (const std::string& text : strings)
    size += text.size() + 1;
  if (!memory.contains(count_ptr, 4) || !memory.contains(size_ptr, 4))
    return Errno::fault;
  if (strings.size() > std::numeric_limits<std::uint32_t>::max() ||
      size > std::numeric_limits<std::uint32_t>::max())
    return Errno::overflow;
  memory.store(count_ptr, static_cast<std::uint32_t>(strings.size()));
  memory.store(size_ptr, static_cast<std::uint32_t>(size));
  return Errno::success;
}

Host::Errno Host::strings_get(const std::vector<std::string>& strings, const GuestView& memory,
                              std::uint32_t pointers_ptr, std::uint32_t buffer_ptr) {
  std::uint64_t size = 0;
  for (const std::string& text : strings)
    size += text.size() + 1;
  if (!memory.contains_array(pointers_ptr, strings.size(), 4) || !memory.contains(buffer_ptr, size))
    return Errno::fault;
  std::uint64_t at = buffer_ptr;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    memory.store(pointers_ptr + 4 * i, static_cast<std::uint32_t>(at));
    memory.store_bytes(at, strings[i].c_str(), strings[i].size() + 1);
    at += strings[i].size() + 1;
  }
  return Errno::success;
}

Host::Errno Host::clock_get(const GuestView& memory, std::uint32_t id, std::uint32_t result_ptr,
                            bool resolution) {
  clockid_t clock;
  if (!host_clock(id, clock))
    return Errno::inval;
  if (!memory.contains(result_ptr, 8))
    return Errno::fault;
  timespec value{};
  if ((resolution ? ::clock_getres(clock, &value) : ::clock_gettime(clock, &value)) != 0)
    return to_wasi_errno(errno);
  memory.store(result_ptr, timestamp_of(value));
  return Errno::success;
}

Host::Errno Host::random_get(const GuestView& memory, std::uint32_t buffer, std::uint32_t length) {
  if (!memory.contains(buffer, length))
    return Errno::fault;
  std::span<std::uint8_t> out = memory.bytes(buffer, length);
  // getrandom returns at most 32 MiB per call and may be cut short by a signal.
  while (!out.empty()) {
    ssize_t got = ::getrandom(out.data(), out.size(), 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return to_wasi_errno(errno);
    }
    out = out.subspan(static_cast<std::size_t>(got));
  }
  return Errno::success;
}

} // namespace ofwatchdog::wasi
