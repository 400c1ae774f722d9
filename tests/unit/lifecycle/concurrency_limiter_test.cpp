#include <catch2/catch.hpp>

#include "lifecycle/concurrency_limiter.hpp"

using ofwatchdog::lifecycle::ConcurrencyLimiter;

TEST_CASE("a limit of 0 admits everything and is never full") {
  ConcurrencyLimiter limiter(0);
  for (int i = 0; i < 100; ++i)
    REQUIRE(limiter.try_acquire());
  REQUIRE_FALSE(limiter.full());
  REQUIRE(limiter.in_flight() == 100);
}

TEST_CASE("the limit admits exactly max_inflight requests at once") {
  ConcurrencyLimiter limiter(2);
  REQUIRE(limiter.try_acquire());
  REQUIRE_FALSE(limiter.full());
  REQUIRE(limiter.try_acquire());
  REQUIRE(limiter.full());
  REQUIRE_FALSE(limiter.try_acquire()); // rejected, and counted out again
  REQUIRE(limiter.in_flight() == 2);
  limiter.release();
  REQUIRE_FALSE(limiter.full());
  REQUIRE(limiter.try_acquire());
  REQUIRE(limiter.full());
}
