// The text formats of the original's log lines: Go durations, human sizes and %q quoting.
#include "log/format.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include <fmt/format.h>

namespace ofwatchdog {

namespace {

// --- durations --------------------------------------------------------------------------------

constexpr std::uint64_t kPow10[] = {1,      10,      100,      1000,      10000,
                                    100000, 1000000, 10000000, 100000000, 1000000000};

// The digits of `fraction` (a value below 10^digits) after a decimal point, with trailing zeros
// dropped; empty when the fraction is zero, so "1.500" prints as "1.5" and "1.000" as "1".
std::string fraction_text(std::uint64_t fraction, int digits) {
  if (fraction == 0)
    return {};
  std::string text = fmt::format(".{:0{}}", fraction, digits);
  while (text.back() == '0')
    text.pop_back();
  return text;
}

// `value` scaled down by 10^digits, printed with its fraction: (1500, 3) -> "1.5".
std::string scaled(std::uint64_t value, int digits) {
  return fmt::format("{}{}", value / kPow10[digits], fraction_text(value % kPow10[digits], digits));
}

// --- %q quoting -------------------------------------------------------------------------------

struct PrintableRange {
  char32_t first;
  char32_t last;
};

constexpr PrintableRange kPrintable[] = {
#include "log/printable_ranges.inc"
};

// Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
bool is_printable(char32_t rune) {
  auto it =
      std::upper_bound(std::begin(kPrintable), std::end(kPrintable), rune,
                       [](char32_t r, const PrintableRange& range) { return r < range.first; });
  if (it == std::begin(kPrintable))
    return false;
  --it;
  return rune <= it->last;
}

constexpr char32_t kInvalidRune = 0xFFFFFFFF;

// Decodes one UTF-8 sequence at the start of `text` as Go's utf8.DecodeRuneInString does: any
// invalid, overlong, surrogate or out-of-range sequence yields kInvalidRune with width 1.
char32_t decode_rune(std::string_view text, std::size_t& width) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char b0 = byte(0);
  width = 1;
  if (b0 < 0x80)
    return b0;
  // The lead byte gives the sequence length, its payload bits and the smallest code point that
  // may use that length (anything below is an overlong encoding).
  struct Lead {
    std::size_t continuation_bytes;
    unsigned char payload_mask;
    char32_t min;
  };
  Lead lead;
  if (b0 >= 0xC2 && b0 <= 0xDF)
    lead = {1, 0x1F, 0x80};
  else if (b0 >= 0xE0 && b0 <= 0xEF)
    lead = {2, 0x0F, 0x800};
  else if (b0 >= 0xF0 && b0 <= 0xF4)
    lead = {3, 0x07, 0x10000};
  else
    return kInvalidRune;
  std::size_t need = lead.continuation_bytes;
  char32_t rune = b0 & lead.payload_mask;
  char32_t min = lead.min;
  if (text.size() < need + 1)
    return kInvalidRune;
  for (std::size_t i = 1; i <= need; ++i) {
    if ((byte(i) & 0xC0) != 0x80)
      return kInvalidRune;
    rune = (rune << 6) | (byte(i) & 0x3F);
  }
  if (rune < min || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF))
    return kInvalidRune;
  width = need + 1;
  return rune;
}

void append_escaped(std::string& out, char32_t rune, std::string_view raw) {
  if (rune == '"' || rune == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(rune));
    return;
  }
  if (is_printable(rune)) {
    out.append(raw);
    return;
  }
  switch (rune) {
  case '\a':
    out += "\\a";
    return;
  case '\b':
    out += "\\b";
    return;
  case '\f':
    out += "\\f";
    return;
  case '\n':
    out += "\\n";
    return;
  case '\r':
    out += "\\r";
    return;
  case '\t':
    out += "\\t";
    return;
  case '\v':
    out += "\\v";
    return;
  default:
    break;
  }
  if (rune < 0x20 || rune == 0x7F)
    out += fmt::format("\\x{:02x}", static_cast<unsigned>(rune));
  else if (rune < 0x10000)
    out += fmt::format("\\u{:04x}", static_cast<unsigned>(rune));
  else
    out += fmt::format("\\U{:08x}", static_cast<unsigned>(rune));
}

} // namespace

std::string go_duration(Duration d) {
  std::int64_t count = d.count();
  if (count == 0)
    return "0s";
  // Work on the magnitude as unsigned so that the most negative value has a magnitude too.
  std::uint64_t ns =
      count < 0 ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  std::string text;
  if (ns < kPow10[9]) {
    // Below one second Go picks the largest unit that keeps the integer part non-zero.
    if (ns < kPow10[3])
      text = fmt::format("{}ns", ns);
    else if (ns < kPow10[6])
      text = scaled(ns, 3) + "\xC2\xB5s"; // U+00B5 MICRO SIGN, as Go writes it
    else
      text = scaled(ns, 6) + "ms";
  } else {
    std::uint64_t seconds = ns / kPow10[9];
    std::string secs = fmt::format("{}{}s", seconds % 60, fraction_text(ns % kPow10[9], 9));
    std::uint64_t minutes = seconds / 60;
    if (minutes == 0)
      text = secs;
    else if (minutes < 60)
      text = fmt::format("{}m{}", minutes, secs);
    else
      text = fmt::format("{}h{}m{}", minutes / 60, minutes % 60, secs);
  }
  return count < 0 ? "-" + text : text;
}

std::string human_size(std::int64_t bytes) {
  // Below 1000 bytes %.4g prints the integer itself: the common case of every access line,
  // without the C library's floating-point formatting.
  if (bytes >= 0 && bytes < 1000)
    return std::to_string(bytes) + "B";
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1000 && unit < std::size(kUnits) - 1) {
    value /= 1000;
    ++unit;
  }
  // C's %.4g rounds and trims exactly as Go's %.4g does (both work on the exact binary value).
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%.4g%s", value, kUnits[unit]);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string go_quote(std::string_view text) {
  std::string out = "\"";
  out.reserve(text.size() + 2);
  while (!text.empty()) {
    std::size_t width;
    char32_t rune = decode_rune(text, width);
    if (rune == kInvalidRune)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[0]));
    else
      append_escaped(out, rune, text.substr(0, width));
    text.remove_prefix(width);
  }
  out += "\"";
  return out;
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20)
        out += fmt::format("\\u{:04x}", c);
      else
        out.push_back(static_cast<char>(c));
    }
  }
  out += "\"";
  return out;
}

} // namespace ofwatchdog
