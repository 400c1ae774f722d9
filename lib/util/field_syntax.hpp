#pragma once
// The syntax of an HTTP field (RFC 9110 §5): a name is a token, a value has no control bytes
// but HTAB. llhttp built without its compile-time strict mode lets some others through (a
// space in a name, for example), which Go refuses in requests and in upstream responses alike,
// so both parsers check each field with these.

#include <array>
#include <string_view>

namespace ofwatchdog {

constexpr bool token_char_rule(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  switch (c) {
  case '!':
  case '#':
  case '$':
  case '%':
  case '&':
  case '\'':
  case '*':
  case '+':
  case '-':
  case '.':
  case '^':
  case '_':
  case '`':
  case '|':
  case '~':
    return true;
  default:
    return false;
  }
}

// The rule above as a table: every header name of every request and response goes through it.
inline constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (unsigned c = 0; c < table.size(); ++c)
    table[c] = token_char_rule(static_cast<unsigned char>(c));
  return table;
}();

inline bool is_token_char(unsigned char c) {
  return kTokenChars[c];
}

// Both checks read every byte without a branch per byte: a valid field is the usual case, and
// every header of every request and response passes through them.
inline bool valid_field_name(std::string_view name) {
  bool valid = !name.empty();
  for (char c : name)
    valid &= is_token_char(static_cast<unsigned char>(c));
  return valid;
}

// Control characters other than tab (NUL, CR, LF among them) and DEL are not allowed.
// (Written as bytes OR-ed together, which the compiler turns into vector compares.)
inline bool valid_field_value(std::string_view value) {
  unsigned char bad = 0;
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned char>(((byte < 0x20) & (byte != '\t')) | (byte == 0x7f));
  }
  return bad == 0;
}

} // namespace ofwatchdog
