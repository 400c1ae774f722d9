#pragma once
// The environment of a forked function: the watchdog's own environment plus CGI-style
// `Http_*` variables describing the request (docs/streaming.md, with
// docs/decisions.md, cgi-reserved-variables).
//
//   Http_<Canonical_Header_Name>=<first value>   one per request header, except Host and
//                                                Transfer-Encoding; `-` becomes `_`
//   Http_Method=<method>                         always
//   Http_Query=<raw query>                       when the query is non-empty
//   Http_Path=<decoded path>                     when non-empty
//   Http_Transfer_Encoding=chunked               for chunked requests
//   Http_Host=<Host header>                      when the request has a non-empty Host
//
// cgi-reserved-variables: header-derived `Http_Method`, `Http_Path`, `Http_Query` and
// `Http_Transfer_Encoding` are dropped, so a client cannot inject them with headers named
// `Method`, `Path`, `Query` or `Transfer-Encoding` (the original let `Query: x` through as
// `Http_Query=x` when the URL had no query). A name that appears more than once keeps its last
// value, as the original's exec does.

#include <string>
#include <string_view>
#include <vector>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::process {

// A header name in Go's canonical form (`x-lower-case` -> `X-Lower-Case`). Names with a byte
// that is not an HTTP token character are returned unchanged, as Go does.
std::string canonical_header_name(std::string_view name);

// `Http_` + the canonical name with every `-` turned into `_`.
std::string cgi_variable_name(std::string_view header_name);

// The whole environment for a function serving `request`, as "NAME=value" entries.
std::vector<std::string> build_cgi_environment(const std::vector<std::string>& base,
                                               const Request& request);

// Keeps the last entry for each name, in the order of those last entries.
std::vector<std::string> dedupe_environment(std::vector<std::string> entries);

} // namespace ofwatchdog::process
