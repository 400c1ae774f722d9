// Process failure texts; see process_error.hpp.
#include "process/process_error.hpp"

#include <cctype>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

namespace ofwatchdog::process {

std::string signal_name(int signum) {
  switch (signum) {
  case SIGKILL: return "killed";
  case SIGTERM: return "terminated";
  case SIGINT: return "interrupt";
  case SIGHUP: return "hangup";
  case SIGQUIT: return "quit";
  case SIGABRT: return "aborted";
  case SIGSEGV: return "segmentation fault";
  case SIGBUS: return "bus error";
  case SIGFPE: return "floating point exception";
  case SIGPIPE: return "broken pipe";
  case SIGUSR1: return "user defined signal 1";
  case SIGUSR2: return "user defined signal 2";
  case SIGALRM: return "alarm clock";
  case SIGILL: return "illegal instruction";
  case SIGTRAP: return "trace/breakpoint trap";
  case SIGXCPU: return "CPU time limit exceeded";
  case SIGXFSZ: return "file size limit exceeded";
  default: return fmt::format("signal {}", signum);
  }
}

std::string exit_error_text(const ExitStatus& status) {
  if (status.term_signal != 0) {
    return fmt::format("signal: {}{}", signal_name(status.term_signal),
                       status.core_dumped ? " (core dumped)" : "");
  }
  if (status.exit_status != 0)
    return fmt::format("exit status {}", status.exit_status);
  return {};
}

std::string spawn_error_text(std::string_view path, int uv_error) {
  // libuv's error codes on Unix are negated errno values, so the C library can name them.
  std::string reason = std::strerror(-uv_error);
  if (!reason.empty())
    reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
  return fmt::format("fork/exec {}: {}", path, reason);
}

std::string not_in_path_text(std::string_view name) {
  return fmt::format("exec: \"{}\": executable file not found in $PATH", name);
}

} // namespace ofwatchdog::process
