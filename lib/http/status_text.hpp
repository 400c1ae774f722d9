#pragma once
// Reason phrases for status lines.

#include <string>
#include <string_view>

namespace ofwatchdog::http {

// The standard reason phrase for `status` (the texts Go's net/http uses), or an empty view when
// the code has none.
std::string_view status_text(int status);

// The text after the code in a status line: the reason phrase, or `status code <n>` for codes
// without one, as Go writes them.
std::string status_reason(int status);

} // namespace ofwatchdog::http
