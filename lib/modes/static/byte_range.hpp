#pragma once
// The `Range` request header (RFC 9110 §14.1), reduced to what the static mode answers.
//
// One satisfiable range is served as 206. Several ranges are answered with the whole file (200)
// instead of the original's `multipart/byteranges`: the multipart form costs a boundary, a
// per-part head and a length computed up front, for a feature clients rarely use; a full 200 is
// a correct answer to any Range request (the header is advisory).

#include <cstdint>
#include <string_view>

namespace ofwatchdog::modes::static_files {

struct RangeRequest {
  enum class Kind {
    whole,         // no usable range: send the whole file with 200
    single,        // one range: 206 with `first`..`first + length - 1`
    invalid,       // a malformed header: 416 `invalid range` (as the original)
    unsatisfiable, // no range overlaps the file: 416 with `Content-Range: bytes */size`
  };
  Kind kind = Kind::whole;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

// Interprets `header` (the Range value; empty when absent) for a file of `size` bytes, as the
// original did: `bytes=a-b` (b clamped to the end), `bytes=a-`, `bytes=-n` (the last n bytes),
// ranges starting at or past the end are dropped, and when all are dropped the request cannot be
// satisfied. A zero-length suffix (`bytes=-0`) selects nothing and so counts as not overlapping.
// Ranges that together ask for more than the file are ignored (whole file), as are several
// ranges (see above).
RangeRequest parse_range(std::string_view header, std::uint64_t size);

} // namespace ofwatchdog::modes::static_files
