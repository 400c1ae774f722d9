#pragma once
// The syntax of a Host value and of the authority of an absolute-form target (RFC 9112 §3.2,
// RFC 3986 §3.2): `host [":" port]`, where host is a bracketed IP literal or a reg-name.
// A server must answer 400 to a Host it cannot read (RFC 9112 §3.2): a value such as `a b`
// would otherwise reach the function as Http_Host and the upstream as its Host.

#include <string_view>

namespace ofwatchdog::http {

// True for `host`, `host:port`, `[v6]:port` and the empty value (allowed when the target has
// no authority). No userinfo, no whitespace, a port of digits only.
bool valid_host(std::string_view value);

} // namespace ofwatchdog::http
