#pragma once
// Conditional requests (RFC 9110 §13) as the original's file server evaluates them. The mode
// never generates an ETag, so entity tags can only match through `*`.

#include <ctime>
#include <optional>
#include <string_view>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::modes::static_files {

// Parses an HTTP date in any of the three forms a server must accept: IMF-fixdate
// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
// (`Sun Nov  6 08:49:37 1994`). Returns seconds since the Unix epoch.
std::optional<std::time_t> parse_http_date(std::string_view text);

enum class Precondition {
  proceed,      // serve the resource
  not_modified, // 304
  failed,       // 412
};

struct ConditionalOutcome {
  Precondition precondition = Precondition::proceed;
  // False when `If-Range` did not match, so a `Range` header must be ignored.
  bool range_allowed = true;
};

// Evaluates If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since and If-Range for a
// file modified at `mtime` (whole seconds; nothing when the file has no meaningful time, which
// makes every date condition inconclusive). The order is the RFC's: If-Match (or, without it,
// If-Unmodified-Since) may fail with 412; then If-None-Match `*` gives 304 to GET/HEAD and 412
// to other methods, and only without If-None-Match is If-Modified-Since checked (GET/HEAD only).
ConditionalOutcome evaluate_conditions(std::string_view method, const HeaderList& headers,
                                       std::optional<std::time_t> mtime);

// True when a GET/HEAD request's If-Modified-Since shows the client's copy is current. Used on
// its own for directory listings, as the original does.
bool not_modified_since(std::string_view method, const HeaderList& headers,
                        std::optional<std::time_t> mtime);

} // namespace ofwatchdog::modes::static_files
