#pragma once
// A non-negative duration in seconds printed with a fixed number of decimals, as "{:.Nf}" prints
// it, in integer arithmetic. Every access line and X-Duration-Seconds header carries one, and
// fmt prints a fixed-precision double through its slow exact path. A value that integer
// arithmetic cannot hold (negative, not a number, too large) goes through fmt as before.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace ofwatchdog::util {

// Appends `value` with `decimals` digits after the point (1 to 9).
inline void append_fixed(std::string& out, double value, int decimals) {
  constexpr std::uint64_t kScale[] = {1,      10,      100,      1000,      10000,
                                      100000, 1000000, 10000000, 100000000, 1000000000};
  // Below 1e12 the product `value * scale` is off from the exact one by less than 1e-4, so
  // rounding it gives the exact result unless its fraction is close to one half: those few
  // values, and those too large or negative, go through fmt, which rounds the exact value.
  constexpr double kLimit = 1e12;
  constexpr double kNearHalf = 1e-2;
  double scaled_value =
      decimals >= 1 && decimals <= 9 ? value * static_cast<double>(kScale[decimals]) : -1;
  if (!(scaled_value >= 0 && scaled_value < kLimit) ||
      std::fabs(scaled_value - std::floor(scaled_value) - 0.5) < kNearHalf) {
    fmt::format_to(std::back_inserter(out), "{:.{}f}", value, decimals);
    return;
  }
  const std::uint64_t scale = kScale[decimals];
  auto scaled = static_cast<std::uint64_t>(std::llround(scaled_value));
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, scaled / scale);
  out.append(digits, static_cast<std::size_t>(end - digits));
  out.push_back('.');
  std::uint64_t fraction = scaled % scale;
  char frac[10];
  for (int i = decimals - 1; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  out.append(frac, static_cast<std::size_t>(decimals));
}

inline std::string fixed(double value, int decimals) {
  std::string out;
  append_fixed(out, value, decimals);
  return out;
}

} // namespace ofwatchdog::util
