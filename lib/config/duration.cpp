// Timeout values: Go duration strings (`1m30s`, `-5s`, `300ms`) and the original's rule that a
// bare non-negative integer means seconds.
#include <cstdint>
#include <limits>
#include <optional>

#include "config/values.hpp"
#include "ofwatchdog/config.hpp"

namespace ofwatchdog {

namespace {

constexpr std::uint64_t kOverflow = std::uint64_t{1} << 63; // one past the largest int64

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Consumes leading digits as an integer. Fails on overflow, as Go's leadingInt does.
std::optional<std::uint64_t> leading_int(std::string_view& text) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (value > (kOverflow - 1) / 10)
      return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (value > kOverflow)
      return std::nullopt;
  }
  text.remove_prefix(i);
  return value;
}

// Consumes the digits after a decimal point. Digits past int64 precision are consumed but
// ignored, so a long fraction loses precision rather than failing.
struct Fraction {
  std::uint64_t value = 0;
  double scale = 1;
};
Fraction leading_fraction(std::string_view& text) {
  Fraction f;
  bool overflow = false;
  std::size_t i = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (overflow)
      continue;
    if (f.value > (kOverflow - 1) / 10) {
      overflow = true;
      continue;
    }
    std::uint64_t next = f.value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (next > kOverflow) {
      overflow = true;
      continue;
    }
    f.value = next;
    f.scale *= 10;
  }
  text.remove_prefix(i);
  return f;
}

std::optional<std::uint64_t> unit_nanoseconds(std::string_view unit) {
  if (unit == "ns")
    return 1;
  // "us", U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU all mean microseconds.
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
    return 1'000;
  if (unit == "ms")
    return 1'000'000;
  if (unit == "s")
    return 1'000'000'000;
  if (unit == "m")
    return 60'000'000'000;
  if (unit == "h")
    return 3'600'000'000'000;
  return std::nullopt;
}

} // namespace

std::optional<Duration> parse_go_duration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  // A bare zero is the only number allowed without a unit.
  if (text == "0")
    return Duration::zero();
  if (text.empty())
    return std::nullopt;

  std::uint64_t total = 0;
  while (!text.empty()) {
    if (!(text[0] == '.' || is_digit(text[0])))
      return std::nullopt;
    std::size_t before = text.size();
    std::optional<std::uint64_t> whole = leading_int(text);
    if (!whole)
      return std::nullopt;
    bool had_whole = text.size() != before;

    Fraction fraction;
    bool had_fraction = false;
    if (!text.empty() && text[0] == '.') {
      text.remove_prefix(1);
      std::size_t after_point = text.size();
      fraction = leading_fraction(text);
      had_fraction = text.size() != after_point;
    }
    // "1.s" and ".5s" are numbers; "." alone is not.
    if (!had_whole && !had_fraction)
      return std::nullopt;

    std::size_t unit_end = 0;
    while (unit_end < text.size() && text[unit_end] != '.' && !is_digit(text[unit_end]))
      ++unit_end;
    if (unit_end == 0)
      return std::nullopt;
    std::optional<std::uint64_t> unit = unit_nanoseconds(text.substr(0, unit_end));
    if (!unit)
      return std::nullopt;
    text.remove_prefix(unit_end);

    if (*whole > kOverflow / *unit)
      return std::nullopt;
    std::uint64_t value = *whole * *unit;
    if (fraction.value > 0) {
      value += static_cast<std::uint64_t>(static_cast<double>(fraction.value) *
                                          (static_cast<double>(*unit) / fraction.scale));
      if (value > kOverflow)
        return std::nullopt;
    }
    total += value;
    if (total > kOverflow)
      return std::nullopt;
  }
  if (negative)
    return Duration(static_cast<std::int64_t>(0 - total));
  if (total > kOverflow - 1)
    return std::nullopt;
  return Duration(static_cast<std::int64_t>(total));
}

std::optional<Duration> parse_duration(std::string_view text) {
  // A non-negative whole number is seconds. The multiplication wraps on overflow, as the
  // original's does; nobody configures a timeout of three centuries.
  if (std::optional<std::int64_t> seconds = config::parse_go_int(text); seconds && *seconds >= 0) {
    std::uint64_t ns = static_cast<std::uint64_t>(*seconds) * 1'000'000'000u;
    return Duration(static_cast<std::int64_t>(ns));
  }
  return parse_go_duration(text);
}

} // namespace ofwatchdog
