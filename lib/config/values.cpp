// The value parsers of the original's configuration (see values.hpp).
#include "config/values.hpp"

#include <cctype>
#include <limits>

#include "ofwatchdog/config.hpp"

namespace ofwatchdog::config {

IntResult parse_atoi(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty())
    return {0, IntError::syntax};
  // Like Go, accumulate as uint64 and report an overflow of that at the digit that causes it
  // (before any later junk), then check the int64 range; the magnitude may reach 2^63 for the
  // most negative value.
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t magnitude = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return {0, IntError::syntax};
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (magnitude > (kMax - digit) / 10)
      return {0, IntError::range};
    magnitude = magnitude * 10 + digit;
  }
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
  if (magnitude > kLimit || (!negative && magnitude == kLimit))
    return {0, IntError::range};
  std::int64_t value =
      negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return {value, IntError::none};
}

std::optional<std::int64_t> parse_go_int(std::string_view text) {
  IntResult r = parse_atoi(text);
  if (r.error != IntError::none)
    return std::nullopt;
  return r.value;
}

bool parse_strict_bool(std::string_view text) {
  return text == "true" || text == "1";
}

namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i])
      return false;
  return true;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

bool is_ipv6_char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

std::optional<std::string> port_problem(std::string_view port) {
  if (port.empty())
    return "the port after ':' is empty";
  if (port.size() > 5)
    return "the port is not a number from 1 to 65535";
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return "the port is not a number from 1 to 65535";
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535)
    return "the port is not a number from 1 to 65535";
  return std::nullopt;
}

std::optional<std::string> authority_problem(std::string_view authority) {
  if (authority.empty())
    return "the host is empty";
  if (authority.find('@') != std::string_view::npos)
    return "user information (user@host) is not supported";
  std::string_view rest;
  if (authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return "the IPv6 address has no closing ']'";
    std::string_view address = authority.substr(1, close - 1);
    if (address.empty())
      return "the host is empty";
    for (char c : address)
      if (!is_ipv6_char(c))
        return "the IPv6 address contains an invalid character";
    rest = authority.substr(close + 1);
  } else {
    std::size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    if (host.empty())
      return "the host is empty";
    for (char c : host)
      if (!is_host_char(c))
        return "the host contains an invalid character";
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (rest.empty())
    return std::nullopt;
  if (rest[0] != ':')
    return "unexpected text after the host";
  return port_problem(rest.substr(1));
}

} // namespace

std::optional<std::string> upstream_url_problem(std::string_view url) {
  if (starts_with_nocase(url, "https://"))
    return "https is not supported, the upstream must be a plain http:// URL";
  if (!starts_with_nocase(url, "http://"))
    return "the URL must start with http://";
  std::string_view rest = url.substr(7);
  std::size_t path_start = rest.find_first_of("/?#");
  if (auto problem = authority_problem(rest.substr(0, path_start)))
    return problem;
  if (path_start == std::string_view::npos)
    return std::nullopt;
  // The request's path is appended to the upstream URL, so a query or fragment here would end
  // up in the middle of every forwarded target.
  std::string_view path = rest.substr(path_start);
  for (char c : path) {
    if (c == '?' || c == '#')
      return "a query or fragment is not allowed";
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F)
      return "the path contains a space or control character";
  }
  return std::nullopt;
}

} // namespace ofwatchdog::config

namespace ofwatchdog {

std::optional<bool> parse_go_bool(std::string_view text) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (text == t)
      return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (text == f)
      return false;
  return std::nullopt;
}

} // namespace ofwatchdog
