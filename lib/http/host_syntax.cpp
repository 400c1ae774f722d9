#include "http/host_syntax.hpp"

namespace ofwatchdog::http {

namespace {
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// unreserved and sub-delims of RFC 3986 §2.
bool is_name_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  switch (c) {
  case '-':
  case '.':
  case '_':
  case '~':
  case '!':
  case '$':
  case '&':
  case '\'':
  case '(':
  case ')':
  case '*':
  case '+':
  case ',':
  case ';':
  case '=':
    return true;
  default:
    return false;
  }
}

// A reg-name: name characters and %XX escapes.
bool valid_reg_name(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%') {
      if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2]))
        return false;
      i += 2;
    } else if (!is_name_char(name[i])) {
      return false;
    }
  }
  return true;
}

// The inside of `[...]`: an IPv6 address or an IPvFuture, both made of name characters and ':'.
bool valid_ip_literal(std::string_view inside) {
  if (inside.empty())
    return false;
  for (char c : inside) {
    if (c != ':' && !is_name_char(c))
      return false;
  }
  return true;
}

bool valid_port(std::string_view port) {
  for (char c : port) {
    if (c < '0' || c > '9')
      return false;
  }
  return true;
}
} // namespace

bool valid_host(std::string_view value) {
  if (!value.empty() && value.front() == '[') {
    std::size_t close = value.find(']');
    if (close == std::string_view::npos || !valid_ip_literal(value.substr(1, close - 1)))
      return false;
    std::string_view rest = value.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
  }
  std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos)
    return valid_reg_name(value);
  return valid_reg_name(value.substr(0, colon)) && valid_port(value.substr(colon + 1));
}

} // namespace ofwatchdog::http
