#pragma once
// The exec timeout a forking request runs under (docs/decisions.md, x-timeout).

#include <string>

#include "ofwatchdog/config.hpp"

namespace ofwatchdog::modes {

// `exec_timeout`, shortened by the request's `X-Timeout` header when that parses as a Go
// duration (`1s`, `250ms`; bare integers are not accepted) greater than zero and no longer than
// `exec_timeout`. Anything else in the header is ignored. A result <= 0 means "no timeout"; as
// in the original, a request cannot add a timeout when `exec_timeout` is disabled.
Duration effective_exec_timeout(Duration exec_timeout, const std::string* x_timeout);

} // namespace ofwatchdog::modes
