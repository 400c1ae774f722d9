#pragma once
// What the server decides about a request head before any handler sees it: the answers it gives
// itself (Go's net/http behaviour, which clients of the original can see), keep-alive and
// `Expect: 100-continue`.

#include <optional>
#include <string>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::http {

struct ServerAnswer {
  // A raw answer is written as Go writes protocol errors (status line text, Content-Type,
  // Connection: close, the text again as the body; no Date, no length) and the connection is
  // closed after it. Otherwise `head` and `body` form an ordinary response.
  bool raw = false;
  std::string raw_text; // e.g. "400 Bad Request: missing required Host header"
  ResponseHead head;
  std::string body;
};

// Fills `request.path` and `request.raw_query` from the target, then returns the answer the
// server gives itself, or nothing when the request goes to the request callback. In order: a
// major version other than 1 (505), CONNECT (501), a missing or repeated Host on HTTP/1.1
// (400), an absolute-form target with a bad scheme or authority (400; a good one is rewritten
// to the origin form with its authority as the Host), a malformed Host (400), an invalid
// percent-escape (400), an unknown `Expect` (417), `OPTIONS *` (200), a non-canonical path
// (301).
std::optional<ServerAnswer> check_request(Request& request);

// The connection may carry another request after this one: HTTP/1.1 unless `Connection: close`;
// HTTP/1.0 only with `Connection: keep-alive`.
bool wants_keep_alive(const Request& request);

// The client waits for `100 Continue` before sending the body.
bool expects_continue(const Request& request);

// The raw bytes of a protocol-error answer (see ServerAnswer::raw).
std::string raw_error_response(std::string_view text);

// True when a comma-separated header value list contains `token` (case-insensitive).
bool header_has_token(const HeaderList& headers, std::string_view name, std::string_view token);

} // namespace ofwatchdog::http
