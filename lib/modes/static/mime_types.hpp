#pragma once
// Content types for served files: a fixed table by extension, and a content sniff for the rest
// (docs/decisions.md, static-content-types). The original also consulted the host's MIME database,
// so the same file could get different types on different hosts; a built-in table makes the answer
// depend only on the file.

#include <optional>
#include <string_view>

#include "http/content_sniff.hpp"

namespace ofwatchdog::modes::static_files {

// Unknown extensions are sniffed with the original's rules (Go's DetectContentType).
using http::kSniffBytes;
using http::sniff_content_type;

// The type for a file name's extension (the text from the last `.` of the last segment,
// compared case-insensitively), or nothing when the table does not know it.
std::optional<std::string_view> content_type_for_name(std::string_view name);

} // namespace ofwatchdog::modes::static_files
