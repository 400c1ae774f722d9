#pragma once
// The texts a forking mode answers and logs when a function fails (docs/streaming.md). They are the
// original's words, because users and tools know them: `exit status 3`, `signal: killed`,
// `fork/exec /x: no such file or directory`.

#include <cstdint>
#include <string>
#include <string_view>

namespace ofwatchdog::process {

// How a child process ended, as waitpid() reports it.
struct ExitStatus {
  std::int64_t exit_status = 0; // the status passed to exit(), when not signalled
  int term_signal = 0;          // the signal that killed it, or 0
  // WCOREDUMP: the signal wrote a core file (only when the core size limit allows one).
  bool core_dumped = false;

  bool success() const { return exit_status == 0 && term_signal == 0; }
};

// Empty for a clean exit; otherwise `exit status <n>` or `signal: <name>[ (core dumped)]`.
std::string exit_error_text(const ExitStatus& status);

// Go's name for a signal: `killed`, `terminated`, ...; `signal <n>` for one without a name.
std::string signal_name(int signum);

// A failed start of `path` with a libuv error code: `fork/exec <path>: <reason>`, with the
// reason in the C library's words, lower-cased (`no such file or directory`).
std::string spawn_error_text(std::string_view path, int uv_error);

// A bare program name that is in no directory of `$PATH`.
std::string not_in_path_text(std::string_view name);

// The effective exec timeout ran out before the process could be started.
inline constexpr std::string_view kDeadlineExceededText = "context deadline exceeded";

} // namespace ofwatchdog::process
