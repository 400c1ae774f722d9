// DeviceSpace: the private 32-bit device addresses of a GPU guest.
#include <catch2/catch.hpp>

#include "gpu/device_space.hpp"

using ofwatchdog::gpu::DeviceSpace;

TEST_CASE("guest device addresses translate only inside one live allocation", "[gpu]") {
  DeviceSpace space;
  std::uint32_t a = *space.add(1000, 0x7000'0000'0000);
  std::uint32_t b = *space.add(16, 0x7000'0001'0000);
  CHECK(a == DeviceSpace::kFirstAddress);
  CHECK(b == a + 1024); // 1000 rounded up to the 256-byte alignment
  CHECK(space.translate(a, 1000) == 0x7000'0000'0000u);
  CHECK(space.translate(a + 996, 4) == 0x7000'0000'0000u + 996);
  CHECK(space.translate(a + 1000, 0) == 0x7000'0000'0000u + 1000);
  CHECK_FALSE(space.translate(a + 997, 4));   // past the end of a
  CHECK_FALSE(space.translate(a + 1000, 24)); // the padding between a and b is no one's
  CHECK_FALSE(space.translate(a - 1, 1));
  CHECK_FALSE(space.translate(0, 0));
  CHECK_FALSE(space.translate(a, UINT64_MAX)); // a length that would wrap
  CHECK(space.translate(b + 8, 8) == 0x7000'0001'0000u + 8);
}

TEST_CASE("a freed range stays invalid and is not handed out again", "[gpu]") {
  DeviceSpace space;
  std::uint32_t a = *space.add(256, 1000);
  CHECK_FALSE(space.remove(a + 8)); // only an allocation's start frees it
  CHECK(space.remove(a)->device == 1000u);
  CHECK_FALSE(space.remove(a)); // twice
  CHECK_FALSE(space.translate(a, 1));
  std::uint32_t b = *space.add(256, 2000);
  CHECK(b != a);
  CHECK(space.count() == 1);
}

TEST_CASE("the space runs out instead of wrapping", "[gpu]") {
  DeviceSpace space;
  CHECK_FALSE(space.add(std::uint64_t{1} << 32, 1));
  std::uint64_t room = (std::uint64_t{1} << 32) - DeviceSpace::kFirstAddress;
  CHECK(space.add(room - 256, 1));
  CHECK(space.add(256, 2));
  CHECK_FALSE(space.add(1, 3));
}
