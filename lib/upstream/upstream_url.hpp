#pragma once
// The upstream of http mode: where requests go, and how a request target is joined to it.
//
// The join is the original's string concatenation (docs/decisions.md, proxy-url-join): the raw
// request target is appended to the configured URL as text, so `http://h:5000/base/` and
// `/x?y=1` give `/base//x?y=1` on the wire. An absolute-form target (`GET http://a/b?c`)
// contributes only its path and query.

#include <optional>
#include <string>
#include <string_view>

namespace ofwatchdog::upstream {

struct UpstreamUrl {
  std::string host; // as written, without the brackets of an IPv6 literal
  int port = 80;    // the explicit port, or 80
  std::string
      authority;      // host[:port] exactly as written: the Host header when the client sent none
  std::string origin; // "http://" + authority, for log lines
  std::string base_path; // the path of the URL as written, possibly empty
};

// Parses `http://host[:port][/path]`. Returns nothing for anything else (load_config has
// already refused such values with a message, so this is a second line of defence).
std::optional<UpstreamUrl> parse_upstream_url(std::string_view url);

// The path and query of a request target: the target itself in origin form, the part from the
// first '/' after the authority in absolute form (`/` when there is none).
std::string_view target_path_and_query(std::string_view target);

// The request-target to send upstream: the base path followed by the path and query.
std::string join_target(const UpstreamUrl& url, std::string_view request_target);

// The whole URL as log lines print it: origin + joined target.
std::string full_url(const UpstreamUrl& url, std::string_view request_target);

} // namespace ofwatchdog::upstream
