#pragma once
// The syntax of an HTTP field (RFC 9110 §5): a name is a token, a value has no control bytes
// but HTAB. llhttp built without its compile-time strict mode lets some others through (a
// space in a name, for example), which Go refuses in requests and in upstream responses alike,
// so both parsers check each field with these.

#include <string_view>

namespace ofwatchdog {

inline bool is_token_char(unsigned char c) {
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

inline bool valid_field_name(std::string_view name) {
  if (name.empty())
    return false;
  for (char c : name) {
    if (!is_token_char(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

// Control characters other than tab (NUL, CR, LF among them) and DEL are not allowed.
inline bool valid_field_value(std::string_view value) {
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f)
      return false;
  }
  return true;
}

} // namespace ofwatchdog
