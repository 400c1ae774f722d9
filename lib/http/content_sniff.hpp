#pragma once
// The Content-Type the original gives a body that has none: Go's `http.DetectContentType`
// rules (the WHATWG MIME sniffing algorithm, as Go implements it), written here from its
// published table of signatures. Used where the original sniffs: http-mode responses whose
// upstream sent no Content-Type (docs/decisions.md, go-server-behaviour), and static files whose
// extension is unknown.

#include <cstddef>
#include <string_view>

namespace ofwatchdog::http {

// Only the first bytes decide.
inline constexpr std::size_t kSniffBytes = 512;

// Always a type: `application/octet-stream` when nothing else matches. Looks at most at the
// first kSniffBytes of `data`.
std::string_view sniff_content_type(std::string_view data);

} // namespace ofwatchdog::http
