// util::append_fixed prints what fmt's "{:.Nf}" prints, in integer arithmetic.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include <fmt/format.h>

#include "util/fixed_decimals.hpp"

using ofwatchdog::util::fixed;

TEST_CASE("fixed decimals match fmt's fixed precision", "[util]") {
  CHECK(fixed(0.0, 6) == "0.000000");
  CHECK(fixed(0.0003, 4) == "0.0003");
  CHECK(fixed(1.5, 1) == "1.5");
  CHECK(fixed(59.99996, 4) == "60.0000");
  CHECK(fixed(123456.5, 9) == fmt::format("{:.9f}", 123456.5));
  // Outside the integer path: fmt's own output.
  CHECK(fixed(-0.25, 4) == "-0.2500");
  CHECK(fixed(2e12, 2) == "2000000000000.00");
  CHECK(fixed(1.0, 12) == "1.000000000000");

  // Durations as the watchdog measures them: nanoseconds divided by 1e9.
  std::mt19937_64 random(26);
  std::uniform_int_distribution<std::uint64_t> nanoseconds(0, 3'600'000'000'000ULL);
  for (int i = 0; i < 100000; ++i) {
    double seconds = static_cast<double>(nanoseconds(random)) / 1e9;
    for (int decimals : {4, 6}) {
      INFO(seconds << " with " << decimals << " decimals");
      REQUIRE(fixed(seconds, decimals) == fmt::format("{:.{}f}", seconds, decimals));
    }
  }
}
