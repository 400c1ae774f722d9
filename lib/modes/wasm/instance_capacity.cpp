#include "modes/wasm/instance_capacity.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "modes/wasm/wasm_settings.hpp"
#include "wasm/guest_thread.hpp"
#include "wasm/memory_slot.hpp"

namespace ofwatchdog::modes {

namespace {

// What one instance takes of each limit at most.
// Mappings: the thread's stacks and guards are four (the protections split one mapping); the
// slot is one while untouched, up to three in use (the accessible part, the rest, and a
// module's copy-on-write image).
constexpr std::uint64_t kMapsPerInstance = 7;
constexpr std::uint64_t kThreadAddressBytes = wasm::GuestThreadOptions{}.stack_bytes +
                                              wasm::GuestThread::kGuardBytes +
                                              wasm::GuestThread::kSignalStackBytes + 4096;
// The sandbox's data and scratch directories.
constexpr std::uint64_t kDescriptorsPerInstance = 2;

// What is kept back for everything else the watchdog does while it serves: this much, or a
// quarter of a smaller limit (a ulimit -n of 1024, common as a default, must still leave room
// for a few hundred instances).
constexpr std::uint64_t kMapsKept = 2048;
constexpr std::uint64_t kAddressBytesKept = 4ull << 30;
constexpr std::uint64_t kThreadsKept = 64;
constexpr std::uint64_t kDescriptorsKept = 1024;

// x86-64 gives a process 47 bits of addresses unless it asks for more, which the watchdog
// never does; other 64-bit machines give at least as much.
constexpr std::uint64_t kUserAddressBytes = 1ull << 47;

std::uint64_t room(std::uint64_t limit, std::uint64_t in_use, std::uint64_t kept,
                   std::uint64_t each) {
  if (limit == kUnlimited)
    return kUnlimited;
  std::uint64_t taken = in_use + std::min(kept, limit / 4);
  return limit > taken ? (limit - taken) / each : 0;
}

std::uint64_t read_number(const char* path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (!(in >> value))
    return kUnlimited;
  return value;
}

std::uint64_t rlimit(int resource) {
  struct rlimit limit {};
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return kUnlimited;
  return limit.rlim_cur;
}

std::uint64_t count_lines(const char* path) {
  std::ifstream in(path);
  std::uint64_t lines = 0;
  std::string line;
  while (std::getline(in, line))
    ++lines;
  return lines;
}

// A "Name:   value" line of /proc/self/status (0 when missing).
std::uint64_t status_field(std::string_view name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ':')
      return std::strtoull(line.c_str() + name.size() + 1, nullptr, 10);
  }
  return 0;
}

std::uint64_t count_descriptors() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr)
    return 0;
  std::uint64_t count = 0;
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.')
      ++count;
  closedir(dir);
  return count;
}

} // namespace

std::uint64_t instance_address_bytes(bool compiled_engine, std::uint64_t max_memory) {
  return kThreadAddressBytes + (compiled_engine ? wasm::MemorySlot::kReservationBytes : max_memory);
}

InstanceCapacity instance_capacity(const ProcessLimits& limits, std::uint64_t address_bytes) {
  InstanceCapacity capacity{kMaxWasmInstances, {}};
  auto bind = [&capacity](std::uint64_t fits, std::string_view name) {
    if (fits < capacity.instances) {
      capacity.instances = static_cast<unsigned>(fits);
      capacity.bound = name;
    }
  };
  bind(room(limits.maps, limits.maps_in_use, kMapsKept, kMapsPerInstance), "vm.max_map_count");
  bind(room(limits.address_bytes, limits.address_bytes_in_use, kAddressBytesKept,
            std::max<std::uint64_t>(address_bytes, 1)),
       "the address space (ulimit -v)");
  bind(room(limits.threads, limits.threads_in_use, kThreadsKept, 1),
       "the thread limit (ulimit -u, kernel.threads-max, kernel.pid_max)");
  bind(room(limits.descriptors, limits.descriptors_in_use, kDescriptorsKept,
            kDescriptorsPerInstance),
       "the open files limit (ulimit -n)");
  return capacity;
}

ProcessLimits read_process_limits() {
  ProcessLimits limits;
  limits.maps = read_number("/proc/sys/vm/max_map_count");
  limits.maps_in_use = count_lines("/proc/self/maps");
  limits.address_bytes = std::min(rlimit(RLIMIT_AS), kUserAddressBytes);
  limits.address_bytes_in_use = status_field("VmSize") * 1024;
  limits.threads = std::min({rlimit(RLIMIT_NPROC), read_number("/proc/sys/kernel/threads-max"),
                             read_number("/proc/sys/kernel/pid_max")});
  limits.threads_in_use = status_field("Threads");
  limits.descriptors = rlimit(RLIMIT_NOFILE);
  limits.descriptors_in_use = count_descriptors();
  return limits;
}

} // namespace ofwatchdog::modes
