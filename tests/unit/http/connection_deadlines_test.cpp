// A connection's deadlines: a timeout rounds up to whole milliseconds, the timer is armed only
// when a deadline comes earlier than the one it is armed for, and the deadline that matters most
// is the one reported when several have passed.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>

#include <uv.h>

#include "../process/test_loop.hpp"
#include "http/connection_deadlines.hpp"

namespace {

using ofwatchdog::http::ConnectionDeadlines;
using ofwatchdog::testing::TestLoop;
using Kind = ConnectionDeadlines::Kind;

constexpr std::int64_t kMs = 1000000; // nanoseconds

} // namespace

TEST_CASE("a timeout of zero or less sets no deadline", "[http][deadlines]") {
  TestLoop loop;
  ConnectionDeadlines deadlines(loop.get());
  deadlines.start(Kind::read, 0);
  deadlines.start(Kind::write, -5 * kMs);
  CHECK_FALSE(deadlines.is_set(Kind::read));
  CHECK_FALSE(deadlines.is_set(Kind::write));
  CHECK_FALSE(deadlines.arm_timer());
  CHECK_FALSE(deadlines.passed());
}

TEST_CASE("a sub-millisecond timeout still waits a millisecond", "[http][deadlines]") {
  TestLoop loop;
  ConnectionDeadlines deadlines(loop.get());
  deadlines.start(Kind::read, 1);
  REQUIRE(deadlines.is_set(Kind::read));
  CHECK(deadlines.arm_timer() == std::optional<std::uint64_t>(1));
  CHECK_FALSE(deadlines.passed());
}

TEST_CASE("the timer is armed again only for an earlier deadline", "[http][deadlines]") {
  TestLoop loop;
  ConnectionDeadlines deadlines(loop.get());
  deadlines.start(Kind::idle, 500 * kMs);
  CHECK(deadlines.arm_timer() == std::optional<std::uint64_t>(500));
  // Later deadlines leave the armed timer alone: it fires, finds nothing due, and is re-armed.
  deadlines.start(Kind::write, 900 * kMs);
  CHECK_FALSE(deadlines.arm_timer());
  deadlines.start(Kind::read, 200 * kMs);
  CHECK(deadlines.arm_timer() == std::optional<std::uint64_t>(200));
  deadlines.timer_fired();
  CHECK(deadlines.arm_timer() == std::optional<std::uint64_t>(200));
}

TEST_CASE("of passed deadlines, linger and idle come before write, and write before read",
          "[http][deadlines]") {
  TestLoop loop;
  ConnectionDeadlines deadlines(loop.get());
  deadlines.start(Kind::read, 1);
  deadlines.start(Kind::write, 1);
  uv_sleep(3);
  uv_update_time(loop.get());
  CHECK(deadlines.passed() == std::optional<Kind>(Kind::write));
  deadlines.clear(Kind::write);
  CHECK(deadlines.passed() == std::optional<Kind>(Kind::read));
  deadlines.start_ms(Kind::linger, 0);
  CHECK(deadlines.passed() == std::optional<Kind>(Kind::linger));
  deadlines.clear_http();
  CHECK_FALSE(deadlines.is_set(Kind::read));
  CHECK(deadlines.is_set(Kind::linger));
}
