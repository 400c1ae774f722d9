#pragma once
// Content types for served files: a fixed table by extension, and a small content sniff for
// the rest (decision G2). The original also consulted the host's MIME database, so the same
// file could get different types on different hosts; a built-in table makes the answer depend
// only on the file.

#include <optional>
#include <string_view>

namespace ofwatchdog::modes::static_files {

// The most bytes `sniff_content_type` looks at, as in the WHATWG algorithm the original used.
inline constexpr std::size_t kSniffBytes = 512;

// The type for a file name's extension (the text from the last `.` of the last segment,
// compared case-insensitively), or nothing when the table does not know it.
std::optional<std::string_view> content_type_for_name(std::string_view name);

// A deliberately small sniff of a file's first bytes: `text/html; charset=utf-8` when it opens
// (after white space) with `<html` or `<!doctype html`, `text/plain; charset=utf-8` for valid
// UTF-8 text without control bytes (an empty file included), otherwise
// `application/octet-stream`. A multi-byte character cut off at the end of `head` is allowed.
std::string_view sniff_content_type(std::string_view head);

} // namespace ofwatchdog::modes::static_files
