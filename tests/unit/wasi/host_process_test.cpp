// The process-level functions: arguments and environment in preview1's layout, clocks,
// randomness, proc_exit, and ENOSYS for what the host leaves out.
#include "wasi_fixture.hpp"

#include <ctime>

using namespace ofwatchdog::wasi;
using namespace ofwatchdog::wasi::testing;

namespace {

struct ProcessCase : HostCase {
  ProcessCase() : HostCase({{"echo.wasm", "-n", ""}, {"Http_Method=GET", "PWD=/"}}) {}
};

} // namespace

TEST_CASE("args_sizes_get and args_get lay out argv as pointers into one NUL-separated buffer",
          "[wasi][host][args]") {
  ProcessCase c;
  std::uint32_t count = c.guest.alloc(4);
  std::uint32_t size = c.guest.alloc(4);
  REQUIRE(call(*c.host, c.guest, Function::args_sizes_get, {count, size}) == Errno::success);
  CHECK(c.guest.u32(count) == 3);
  CHECK(c.guest.u32(size) == 14); // "echo.wasm\0-n\0\0"

  std::uint32_t pointers = c.guest.alloc(12);
  std::uint32_t buffer = c.guest.alloc(14);
  REQUIRE(call(*c.host, c.guest, Function::args_get, {pointers, buffer}) == Errno::success);
  CHECK(c.guest.u32(pointers) == buffer);
  CHECK(c.guest.u32(pointers + 4) == buffer + 10);
  CHECK(c.guest.u32(pointers + 8) == buffer + 13);
  CHECK(c.guest.text(buffer, 14) == std::string("echo.wasm\0-n\0\0", 14));
}

TEST_CASE("environ_get gives NAME=value strings in the caller's order", "[wasi][host][args]") {
  ProcessCase c;
  std::uint32_t count = c.guest.alloc(4);
  std::uint32_t size = c.guest.alloc(4);
  REQUIRE(call(*c.host, c.guest, Function::environ_sizes_get, {count, size}) == Errno::success);
  CHECK(c.guest.u32(count) == 2);
  CHECK(c.guest.u32(size) == 22);
  std::uint32_t pointers = c.guest.alloc(8);
  std::uint32_t buffer = c.guest.alloc(22);
  REQUIRE(call(*c.host, c.guest, Function::environ_get, {pointers, buffer}) == Errno::success);
  CHECK(c.guest.u32(pointers + 4) == buffer + 16);
  CHECK(c.guest.text(buffer, 22) == std::string("Http_Method=GET\0PWD=/\0", 22));
}

TEST_CASE("argument and environment pointers outside memory are EFAULT, with nothing written",
          "[wasi][host][args][efault]") {
  ProcessCase c;
  const std::uint64_t end = Guest::kSize;
  std::uint32_t ok = c.guest.alloc(64);
  CHECK(call(*c.host, c.guest, Function::args_sizes_get, {end - 2, ok}) == Errno::fault);
  CHECK(call(*c.host, c.guest, Function::args_sizes_get, {ok, end}) == Errno::fault);
  CHECK(call(*c.host, c.guest, Function::args_get, {end - 8, ok}) == Errno::fault);  // 12 needed
  CHECK(call(*c.host, c.guest, Function::args_get, {ok, end - 13}) == Errno::fault); // 14 needed
  CHECK(call(*c.host, c.guest, Function::environ_get, {0xffff'fffcu, ok}) == Errno::fault);
  CHECK(call(*c.host, c.guest, Function::environ_sizes_get, {ok, 0xffff'ffffu}) == Errno::fault);
  CHECK(c.guest.u32(ok) == 0);
}

TEST_CASE("clocks report nanoseconds; an unknown clock is EINVAL", "[wasi][host][clock]") {
  ProcessCase c;
  std::uint32_t at = c.guest.alloc(8);
  timespec before{};
  ::clock_gettime(CLOCK_REALTIME, &before);
  REQUIRE(call(*c.host, c.guest, Function::clock_time_get, {0, 0, at}) == Errno::success);
  std::uint64_t realtime = c.guest.u64(at);
  CHECK(realtime / 1'000'000'000u >= static_cast<std::uint64_t>(before.tv_sec));
  CHECK(realtime / 1'000'000'000u <= static_cast<std::uint64_t>(before.tv_sec) + 5);

  REQUIRE(call(*c.host, c.guest, Function::clock_time_get, {1, 0, at}) == Errno::success);
  std::uint64_t first = c.guest.u64(at);
  REQUIRE(call(*c.host, c.guest, Function::clock_time_get, {1, 0, at}) == Errno::success);
  CHECK(c.guest.u64(at) >= first);
  for (std::uint64_t id : {2, 3}) {
    c.guest.store<std::uint64_t>(at, 0);
    REQUIRE(call(*c.host, c.guest, Function::clock_time_get, {id, 0, at}) == Errno::success);
    CHECK(c.guest.u64(at) > 0); // this thread has run
  }
  REQUIRE(call(*c.host, c.guest, Function::clock_res_get, {1, at}) == Errno::success);
  CHECK(c.guest.u64(at) > 0);
  CHECK(c.guest.u64(at) <= 1'000'000u);
  CHECK(call(*c.host, c.guest, Function::clock_time_get, {4, 0, at}) == Errno::inval);
  CHECK(call(*c.host, c.guest, Function::clock_res_get, {9, at}) == Errno::inval);
  CHECK(call(*c.host, c.guest, Function::clock_time_get, {1, 0, Guest::kSize - 7}) == Errno::fault);
  CHECK(call(*c.host, c.guest, Function::clock_res_get, {0, Guest::kSize}) == Errno::fault);
}

TEST_CASE("random_get fills the whole buffer and refuses one past memory", "[wasi][host][random]") {
  ProcessCase c;
  std::uint32_t buffer = c.guest.alloc(4096);
  REQUIRE(call(*c.host, c.guest, Function::random_get, {buffer, 4096}) == Errno::success);
  int zeros = 0;
  for (std::uint32_t i = 0; i < 4096; ++i)
    zeros += c.guest.bytes[buffer + i] == 0;
  CHECK(zeros < 100); // about 16 expected
  CHECK(call(*c.host, c.guest, Function::random_get, {Guest::kSize - 10, 11}) == Errno::fault);
  CHECK(call(*c.host, c.guest, Function::random_get, {0xffff'ff00u, 0x200}) == Errno::fault);
  CHECK(call(*c.host, c.guest, Function::random_get, {Guest::kSize, 0}) == Errno::success);
}

TEST_CASE("proc_exit ends the guest with its status; sched_yield succeeds", "[wasi][host][exit]") {
  ProcessCase c;
  HostResult result = raw_call(*c.host, c.guest, Function::proc_exit, {3});
  CHECK(result.kind == HostResult::Kind::exited);
  CHECK(result.value == 3);
  CHECK(call(*c.host, c.guest, Function::sched_yield, {}) == Errno::success);
}

TEST_CASE("functions the host leaves out answer ENOSYS, and implements() names exactly those",
          "[wasi][host]") {
  int left_out = 0;
  for (std::uint32_t index = 0; index < kFunctionCount; ++index) {
    auto function = static_cast<Function>(index);
    INFO("function index " << index);
    // A host of its own per call: some calls (fd_close, fd_renumber) change the descriptors.
    ProcessCase c;
    HostResult result = raw_call(*c.host, c.guest, function, {3, 0, 0, 0, 0, 0, 0});
    bool nosys = result.kind == HostResult::Kind::returned &&
                 static_cast<Errno>(result.value) == Errno::nosys;
    CHECK(nosys == !implements(function));
    left_out += nosys ? 1 : 0;
  }
  // fd_advise, fd_allocate, the set_rights/set_times family, links, symlinks, proc_raise and
  // the four socket calls.
  CHECK(left_out == 13);
}

TEST_CASE("i32 arguments count only their low 32 bits, whichever way they were widened",
          "[wasi][host]") {
  ProcessCase c;
  std::uint32_t count = c.guest.alloc(4);
  std::uint32_t size = c.guest.alloc(4);
  CHECK(call(*c.host, c.guest, Function::args_sizes_get,
             {0xffff'ffff'0000'0000ull | count, 0x1'0000'0000ull | size}) == Errno::success);
  CHECK(c.guest.u32(count) == 3);
}
