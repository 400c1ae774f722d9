#pragma once
// What execve(2) will take, checked before a function is forked, so a request whose headers
// cannot become the function's environment gets a clear 431 instead of a failed spawn (a 500
// that says only "argument list too long").
//
// Linux refuses a single argument or environment string of MAX_ARG_STRLEN (32 pages, 128 KiB)
// or more, counting its NUL, and a whole argument and environment block larger than a quarter
// of the stack limit (sysconf(_SC_ARG_MAX)), counting each string's NUL and pointer. The
// server allows request heads up to 1 MiB, so both can be reached by a client.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ofwatchdog::process {

// The largest string execve takes, its NUL included (MAX_ARG_STRLEN on Linux).
inline constexpr std::size_t kMaxExecString = 32 * 4096;

// Nothing when `argv` and `environment` fit in one execve with `block_limit` bytes for the
// whole block; otherwise a sentence saying what does not fit, naming the variable.
std::optional<std::string> exec_limit_fault(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& environment,
                                            std::size_t block_limit);

// sysconf(_SC_ARG_MAX), read once: it follows the stack limit the watchdog started with.
std::size_t exec_block_limit();

} // namespace ofwatchdog::process
