#pragma once
// Where a request path leads under `static_path`, and the checks that keep it there.
//
// The server has already percent-decoded the path and answered a non-canonical one with a 301,
// so `..` segments cannot reach this far through the URL. These rules are the second line: the
// path is cleaned again, bytes that some file systems or tools read as separators (a backslash)
// or terminators (NUL) are refused, and after the file is opened its real path must still lie
// under the root's real path, which is what stops a symlink that points outside
// (docs/decisions.md, static-confinement).

#include <string>
#include <string_view>

namespace ofwatchdog::modes::static_files {

// False for a decoded path that must never reach the file system: one containing a backslash
// or a NUL byte.
bool is_acceptable_path(std::string_view decoded_path);

// The file-system name for a decoded request path: the root (without trailing slashes) joined
// with the cleaned path, without a trailing slash, so `/` names the root itself.
std::string file_system_path(std::string_view root, std::string_view decoded_path);

// True when `real_path` (a realpath result) is `real_root` or lies below it. A plain prefix test
// is not enough: `/srv/www-private` starts with `/srv/www` but is not under it.
bool is_under_root(std::string_view real_root, std::string_view real_path);

// The last segment of a path, trailing slashes ignored (Go's path.Base): `/a/b/` gives `b`,
// `/` gives `/`.
std::string_view base_name(std::string_view path);

} // namespace ofwatchdog::modes::static_files
