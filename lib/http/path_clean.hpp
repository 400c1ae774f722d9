#pragma once
// Request-target handling: splitting, percent-decoding, and the canonical path that decides the
// 301 redirect (Go's ServeMux behaviour, which clients of the original can see).

#include <optional>
#include <string>
#include <string_view>

namespace ofwatchdog::http {

struct TargetParts {
  std::string_view scheme;    // absolute-form only: `http`, as sent
  std::string_view authority; // absolute-form only: `host:port` (userinfo included, if sent)
  std::string_view path;      // still percent-encoded; empty for an authority-form target
  std::string_view query;     // the text after the first '?', still encoded
  bool has_query = false;
};

// Splits an origin-form (`/a?b`) or absolute-form (`http://host/a?b`) request-target. For
// absolute-form the scheme and authority are kept apart from the path and query.
TargetParts split_target(std::string_view target);

// Decodes %XX escapes (`%2F` becomes `/`). Returns nothing when a `%` is not followed by two hex
// digits, which the server answers with 400.
std::optional<std::string> percent_decode(std::string_view text);

// The canonical form of a decoded path: rooted, `//` collapsed, `.` and `..` resolved (never
// above the root), and a trailing slash kept. This is Go's path.Clean plus the trailing-slash
// rule of its ServeMux.
std::string clean_path(std::string_view path);

// Escapes a decoded path for a `Location` header: unreserved characters and `$&+,/:;=@` stay,
// everything else becomes %XX (upper-case hex).
std::string escape_path(std::string_view path);

// Makes a still-encoded query safe to repeat in a `Location` header: bytes that may not appear
// in a header value or a URI (controls, space, DEL and every byte above 0x7F) become %XX; the
// rest, `%` included, stays as the client sent it. The parser lets such bytes through in the
// request-target, so a redirect that copied them raw would be a malformed response.
std::string escape_query(std::string_view query);

// Escapes `<>&'"` for text placed inside an HTML attribute.
std::string html_escape(std::string_view text);

} // namespace ofwatchdog::http
