// Timeout parsing: docs/config.md ("Durations") and Go's time.ParseDuration.
#include <catch2/catch.hpp>

#include <limits>

#include "ofwatchdog/config.hpp"

using namespace std::chrono_literals;
using ofwatchdog::Duration;
using ofwatchdog::parse_duration;
using ofwatchdog::parse_go_duration;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
} // namespace

TEST_CASE("parse_duration reads a non-negative integer as seconds", "[config][duration]") {
  CHECK(parse_duration("10") == Duration(10s));
  CHECK(parse_duration("+10") == Duration(10s));
  CHECK(parse_duration("0") == Duration(0s));
  CHECK(parse_duration("-0") == Duration(0s));
  CHECK(parse_duration("00") == Duration(0s));
  CHECK(parse_duration("007") == Duration(7s));
}

TEST_CASE("parse_duration wraps a huge number of seconds silently", "[config][duration]") {
  // 9223372037 s is just past the int64 nanosecond range; the original's multiplication wraps.
  CHECK(parse_duration("9223372036") == Duration(9223372036000000000));
  CHECK(parse_duration("9223372037") == Duration(std::int64_t{-9223372036709551616LL}));
}

TEST_CASE("parse_duration reads Go duration strings", "[config][duration]") {
  CHECK(parse_duration("1m30s") == Duration(90s));
  CHECK(parse_duration("1.5h") == Duration(90min));
  CHECK(parse_duration("-5s") == Duration(-5s));
  CHECK(parse_duration("300ms") == Duration(300ms));
  CHECK(parse_duration("1h2m3.5s") == Duration(1h + 2min + 3500ms));
}

TEST_CASE("parse_duration rejects what the original falls back on", "[config][duration]") {
  // A negative bare integer is not seconds, and as a Go duration it lacks a unit.
  CHECK_FALSE(parse_duration("-5"));
  CHECK_FALSE(parse_duration("5.5"));
  CHECK_FALSE(parse_duration(" 5"));
  CHECK_FALSE(parse_duration("5 "));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("bogus"));
  CHECK_FALSE(parse_duration("10S"));
}

TEST_CASE("parse_go_duration accepts every unit", "[config][duration]") {
  CHECK(parse_go_duration("10ns") == Duration(10ns));
  CHECK(parse_go_duration("5us") == Duration(5us));
  CHECK(parse_go_duration("5\xC2\xB5s") == Duration(5us)); // U+00B5 MICRO SIGN
  CHECK(parse_go_duration("5\xCE\xBCs") == Duration(5us)); // U+03BC GREEK SMALL LETTER MU
  CHECK(parse_go_duration("7ms") == Duration(7ms));
  CHECK(parse_go_duration("2s") == Duration(2s));
  CHECK(parse_go_duration("3m") == Duration(3min));
  CHECK(parse_go_duration("4h") == Duration(4h));
}

TEST_CASE("parse_go_duration follows Go's number rules", "[config][duration]") {
  CHECK(parse_go_duration("0") == Duration(0s));
  CHECK(parse_go_duration("-0") == Duration(0s));
  CHECK(parse_go_duration("+0") == Duration(0s));
  CHECK(parse_go_duration("0s") == Duration(0s));
  CHECK(parse_go_duration(".5s") == Duration(500ms));
  CHECK(parse_go_duration("1.s") == Duration(1s));
  CHECK(parse_go_duration("+1.5m") == Duration(90s));
  CHECK(parse_go_duration("-1.5h") == Duration(-90min));
  CHECK(parse_go_duration("1h1h") == Duration(2h));
  CHECK(parse_go_duration("1s500ms") == Duration(1500ms));
  // A fraction finer than a nanosecond is truncated.
  CHECK(parse_go_duration("0.1234567891s") == Duration(123456789ns));
  CHECK(parse_go_duration("1.0000000000000000000000001s") == Duration(1s));
}

TEST_CASE("parse_go_duration rejects malformed strings", "[config][duration]") {
  CHECK_FALSE(parse_go_duration(""));
  CHECK_FALSE(parse_go_duration("10")); // no unit
  CHECK_FALSE(parse_go_duration("00")); // only a lone 0 may omit the unit
  CHECK_FALSE(parse_go_duration("-"));
  CHECK_FALSE(parse_go_duration("+"));
  CHECK_FALSE(parse_go_duration("s"));
  CHECK_FALSE(parse_go_duration(".s"));
  CHECK_FALSE(parse_go_duration("."));
  CHECK_FALSE(parse_go_duration("1x"));
  CHECK_FALSE(parse_go_duration("1e3s"));
  CHECK_FALSE(parse_go_duration("1h1"));
  CHECK_FALSE(parse_go_duration("1.5"));
  CHECK_FALSE(parse_go_duration("--1s"));
  CHECK_FALSE(parse_go_duration("1 s"));
  CHECK_FALSE(parse_go_duration("\xC2\xB5s"));
}

TEST_CASE("parse_go_duration stops at the int64 range", "[config][duration]") {
  CHECK(parse_go_duration("9223372036854775807ns") == Duration(kMax));
  CHECK(parse_go_duration("2562047h47m16.854775807s") == Duration(kMax));
  CHECK(parse_go_duration("-9223372036854775808ns") == Duration(kMin));
  CHECK(parse_go_duration("-2562047h47m16.854775808s") == Duration(kMin));
  CHECK_FALSE(parse_go_duration("9223372036854775808ns"));
  CHECK_FALSE(parse_go_duration("2562047h47m16.854775808s"));
  CHECK_FALSE(parse_go_duration("2562048h"));
  CHECK_FALSE(parse_go_duration("99999999999999999999ns"));
}
