// poll_oneoff: clocks relative and absolute, stdin readiness, stdout always ready, and the
// wait ending with the request.
#include "wasi_fixture.hpp"

#include <chrono>
#include <ctime>

using namespace ofwatchdog::wasi;
using namespace ofwatchdog::wasi::testing;

namespace {

struct PollCase : HostCase {
  std::uint32_t in = guest.alloc(8 * sizeof(abi::Subscription));
  std::uint32_t out = guest.alloc(8 * sizeof(abi::Event));
  std::uint32_t nevents = guest.alloc(4);
  std::uint32_t count = 0;

  void clock(std::uint64_t userdata, abi::ClockId id, std::uint64_t timeout, bool absolute) {
    abi::Subscription subscription{};
    subscription.userdata = userdata;
    subscription.tag = abi::EventType::clock;
    subscription.u.clock.id = id;
    subscription.u.clock.timeout = timeout;
    subscription.u.clock.flags = absolute ? abi::kSubclockAbstime : 0;
    guest.store(in + count++ * sizeof subscription, subscription);
  }
  void fd(std::uint64_t userdata, abi::EventType type, std::uint32_t fd) {
    abi::Subscription subscription{};
    subscription.userdata = userdata;
    subscription.tag = type;
    subscription.u.fd = fd;
    guest.store(in + count++ * sizeof subscription, subscription);
  }
  HostResult poll() {
    return raw_call(*host, guest, Function::poll_oneoff, {in, out, count, nevents});
  }
  abi::Event event(std::uint32_t i) const {
    return guest.load<abi::Event>(out + i * sizeof(abi::Event));
  }
};

std::uint64_t clock_now(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}

} // namespace

TEST_CASE("a relative 1 ms clock returns its event after about 1 ms", "[wasi][host][poll]") {
  PollCase c;
  c.clock(42, abi::ClockId::monotonic, 1'000'000, false);
  auto start = std::chrono::steady_clock::now();
  HostResult result = c.poll();
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(result.kind == HostResult::Kind::returned);
  REQUIRE(static_cast<Errno>(result.value) == Errno::success);
  CHECK(c.guest.u32(c.nevents) == 1);
  CHECK(c.event(0).userdata == 42);
  CHECK(c.event(0).type == abi::EventType::clock);
  CHECK(c.event(0).error == Errno::success);
  CHECK(took >= std::chrono::milliseconds(1));
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("absolute clocks in the past are due at once; the earliest of two clocks wins",
          "[wasi][host][poll]") {
  PollCase c;
  SECTION("absolute realtime and monotonic, already passed") {
    c.clock(1, abi::ClockId::realtime, clock_now(CLOCK_REALTIME) - 1'000'000'000u, true);
    c.clock(2, abi::ClockId::monotonic, clock_now(CLOCK_MONOTONIC) - 1, true);
    REQUIRE(c.poll().value == 0);
    CHECK(c.guest.u32(c.nevents) == 2);
    CHECK(c.stdio.waits == 0);
  }
  SECTION("an absolute monotonic deadline 2 ms ahead, and a relative hour") {
    c.clock(1, abi::ClockId::realtime, 3'600'000'000'000u, false);
    c.clock(2, abi::ClockId::monotonic, clock_now(CLOCK_MONOTONIC) + 2'000'000, true);
    REQUIRE(c.poll().value == 0);
    CHECK(c.guest.u32(c.nevents) == 1);
    CHECK(c.event(0).userdata == 2);
  }
  SECTION("a relative CPU-time clock") {
    c.clock(7, abi::ClockId::thread_cputime, 1'000'000, false);
    REQUIRE(c.poll().value == 0);
    CHECK(c.event(0).userdata == 7);
  }
  SECTION("an unknown clock is an event with EINVAL") {
    c.clock(9, static_cast<abi::ClockId>(17), 0, false);
    REQUIRE(c.poll().value == 0);
    CHECK(c.event(0).error == Errno::inval);
  }
}

TEST_CASE("stdin ready, stdout and files are events at once, without waiting",
          "[wasi][host][poll]") {
  PollCase c;
  c.stdio.input = "body";
  c.stdio.input_open = true;
  c.fd(1, abi::EventType::fd_read, 0);
  c.fd(2, abi::EventType::fd_write, 1);
  c.fd(3, abi::EventType::fd_read, 77);
  c.clock(4, abi::ClockId::monotonic, 3'600'000'000'000u, false);
  REQUIRE(c.poll().value == 0);
  REQUIRE(c.guest.u32(c.nevents) == 3);
  CHECK(c.event(0).userdata == 1);
  CHECK(c.event(0).type == abi::EventType::fd_read);
  CHECK(c.event(1).userdata == 2);
  CHECK(c.event(1).type == abi::EventType::fd_write);
  CHECK(c.event(2).userdata == 3);
  CHECK(c.event(2).error == Errno::badf);
  CHECK(c.stdio.waits == 0);
}

TEST_CASE("stdin not ready waits until the clock, then reports the clock only",
          "[wasi][host][poll]") {
  PollCase c;
  c.stdio.input_open = true; // nothing buffered, no end
  c.fd(1, abi::EventType::fd_read, 0);
  c.clock(2, abi::ClockId::monotonic, 1'000'000, false);
  REQUIRE(c.poll().value == 0);
  REQUIRE(c.guest.u32(c.nevents) == 1);
  CHECK(c.event(0).userdata == 2);
  CHECK(c.stdio.waits == 1);
}

TEST_CASE("a wait the request's cancellation ends is interrupted", "[wasi][host][poll]") {
  PollCase c;
  c.stdio.input_open = true;
  c.fd(1, abi::EventType::fd_read, 0); // no clock: waits for stdin alone
  CHECK(c.poll().kind == HostResult::Kind::interrupted);
}

TEST_CASE("poll_oneoff refuses no subscriptions and ranges outside memory",
          "[wasi][host][poll][efault]") {
  PollCase c;
  c.clock(1, abi::ClockId::monotonic, 0, false);
  CHECK(call(*c.host, c.guest, Function::poll_oneoff, {c.in, c.out, 0, c.nevents}) == Errno::inval);
  CHECK(call(*c.host, c.guest, Function::poll_oneoff, {Guest::kSize - 47, c.out, 1, c.nevents}) ==
        Errno::fault);
  CHECK(call(*c.host, c.guest, Function::poll_oneoff, {c.in, Guest::kSize - 31, 1, c.nevents}) ==
        Errno::fault);
  CHECK(call(*c.host, c.guest, Function::poll_oneoff, {c.in, c.out, 1, Guest::kSize - 3}) ==
        Errno::fault);
  CHECK(call(*c.host, c.guest, Function::poll_oneoff, {c.in, c.out, 0x0600'0000u, c.nevents}) ==
        Errno::fault);
  CHECK(c.guest.u32(c.nevents) == 0);
}
