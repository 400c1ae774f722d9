#pragma once
// How many wasm instances this process can hold, worked out once at start-up from the limits
// the kernel enforces, so that a pool size beyond them is refused with an answer rather than
// found out thread by thread.
//
// Each instance is a worker thread with its own stacks, a memory (on the compiled engine a slot
// of 8 GiB of addresses, reserved on its first run) and a sandbox holding two directories open.
// The kernel caps each of those per process: mappings (vm.max_map_count, 65530 by default: the
// first to bind, at about 9,000 instances), the user address space (128 TiB: about 16,000
// slots), threads and descriptors. Part of every limit is kept back for the rest of the
// watchdog (connections, a request's mappings, libraries).

#include <cstdint>
#include <string_view>

namespace ofwatchdog::modes {

// A limit the kernel has no answer for (a /proc file missing, RLIM_INFINITY) is this.
constexpr std::uint64_t kUnlimited = UINT64_MAX;

struct ProcessLimits {
  std::uint64_t maps = kUnlimited; // vm.max_map_count
  std::uint64_t maps_in_use = 0;
  std::uint64_t address_bytes = kUnlimited; // RLIMIT_AS, at most the user address space
  std::uint64_t address_bytes_in_use = 0;
  std::uint64_t threads = kUnlimited; // RLIMIT_NPROC, kernel.threads-max, kernel.pid_max
  std::uint64_t threads_in_use = 0;
  std::uint64_t descriptors = kUnlimited; // RLIMIT_NOFILE
  std::uint64_t descriptors_in_use = 0;
};

struct InstanceCapacity {
  unsigned instances = 0;
  // The limit that binds, as an operator would look it up ("vm.max_map_count"); empty when
  // none binds below the largest pool mode=wasm accepts.
  std::string_view bound;
};

// The addresses one instance may take: its thread's stacks, and its memory: a slot on the
// compiled engine, at most `max_memory` bytes of heap on the interpreter.
std::uint64_t instance_address_bytes(bool compiled_engine, std::uint64_t max_memory);

// The largest pool `limits` leave room for (at most 65535), each instance taking
// `address_bytes` of addresses.
InstanceCapacity instance_capacity(const ProcessLimits& limits, std::uint64_t address_bytes);

// This process's limits and use now, from /proc and getrlimit. It reads a few small files; the
// mode calls it once, at start-up.
ProcessLimits read_process_limits();

} // namespace ofwatchdog::modes
