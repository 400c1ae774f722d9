// check_response_head: the rules every in-process answer is held to before it reaches the
// connection, so that no function, in any language, can make the watchdog send a malformed
// response or take over the framing that is the watchdog's to set.
#include <fmt/format.h>

#include "ofwatchdog/function.hpp"
#include "util/field_syntax.hpp"
#include "util/strings.hpp"

namespace ofwatchdog {

namespace {

// The framing and the connection are the server's: a function that set them could contradict
// the body it sends, or the connection's keep-alive.
constexpr std::string_view kOwnedHeaders[] = {"Content-Length", "Transfer-Encoding", "Connection",
                                              "Keep-Alive",     "Upgrade",           "Trailer"};

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || byte == '"' || byte == '\\')
      out += fmt::format("\\x{:02x}", byte);
    else
      out += c;
  }
  return out;
}

} // namespace

std::optional<std::string> check_response_head(int status, const HeaderList& headers) {
  if (status < 200 || status > 599)
    return fmt::format("status {} is outside 200-599", status);
  for (const Header& header : headers) {
    if (!valid_field_name(header.name))
      return fmt::format("header name \"{}\" is not a valid field name", printable(header.name));
    if (!valid_field_value(header.value))
      return fmt::format("the value of header {} has a control character (CR, LF or NUL)",
                         header.name);
    for (std::string_view owned : kOwnedHeaders) {
      if (iequals(header.name, owned))
        return fmt::format("header {} is set by the watchdog, not by the function", header.name);
    }
  }
  return std::nullopt;
}

} // namespace ofwatchdog
