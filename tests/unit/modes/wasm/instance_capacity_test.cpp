// How many wasm instances a process's limits leave room for: the bound a resize is checked
// against.
#include <catch2/catch.hpp>

#include "modes/wasm/instance_capacity.hpp"

using ofwatchdog::modes::instance_address_bytes;
using ofwatchdog::modes::instance_capacity;
using ofwatchdog::modes::kUnlimited;
using ofwatchdog::modes::ProcessLimits;

TEST_CASE("instance capacity: the tightest limit binds, and says which it is", "[modes][wasm]") {
  // This machine's defaults: vm.max_map_count 65530, 128 TiB of addresses, pid_max 32768,
  // 20000 descriptors, with what a watchdog uses at start-up.
  ProcessLimits limits;
  limits.maps = 65530;
  limits.maps_in_use = 300;
  limits.address_bytes = 1ull << 47;
  limits.address_bytes_in_use = 1ull << 30;
  limits.threads = 32768;
  limits.threads_in_use = 3;
  limits.descriptors = 20000;
  limits.descriptors_in_use = 30;
  const std::uint64_t slot = instance_address_bytes(true, 256u << 20);
  auto capacity = instance_capacity(limits, slot);
  // (65530 - 300 - 2048 kept back) / 7 mappings each.
  CHECK(capacity.instances == 9026);
  CHECK(capacity.bound == "vm.max_map_count");

  // With mappings and descriptors to spare, the 8 GiB slots run out of addresses near 16,000.
  limits.maps = 1u << 20;
  limits.descriptors = 1u << 20;
  capacity = instance_capacity(limits, slot);
  CHECK(capacity.bound == "the address space (ulimit -v)");
  CHECK(capacity.instances > 16000);
  CHECK(capacity.instances < 16400);

  // Under a ulimit -v of 16 GiB the compiled engine's slots fit once; the interpreter's
  // memories of 256 MiB many times.
  limits.address_bytes = (16ull << 30) + limits.address_bytes_in_use;
  CHECK(instance_capacity(limits, slot).instances == 1);
  CHECK(instance_capacity(limits, instance_address_bytes(false, 256u << 20)).instances == 46);
  limits.address_bytes = 1ull << 47;

  // A small ulimit -n: 1024 keeps a quarter back, (1024 - 30 - 256) / 2 descriptors each.
  limits.descriptors = 1024;
  capacity = instance_capacity(limits, slot);
  CHECK(capacity.instances == 369);
  CHECK(capacity.bound == "the open files limit (ulimit -n)");
}

TEST_CASE("instance capacity: nothing left is zero; no limits known is the largest pool",
          "[modes][wasm]") {
  ProcessLimits spent;
  spent.threads = 100;
  spent.threads_in_use = 100;
  CHECK(instance_capacity(spent, 1).instances == 0);
  CHECK(instance_capacity(spent, 1).bound ==
        "the thread limit (ulimit -u, kernel.threads-max, kernel.pid_max)");

  ProcessLimits unknown; // every limit kUnlimited
  CHECK(unknown.maps == kUnlimited);
  CHECK(instance_capacity(unknown, 1).instances == 65535);
  CHECK(instance_capacity(unknown, 1).bound.empty());
}

TEST_CASE("instance capacity: this process's limits leave room for a few workers at least",
          "[modes][wasm]") {
  // Read from /proc and getrlimit: whatever the machine, a test process has room for two.
  CHECK(instance_capacity(ofwatchdog::modes::read_process_limits(),
                          instance_address_bytes(true, 256u << 20))
            .instances >= 2);
}
