// Process failure texts (docs/streaming.md, "Answers").
#include <catch2/catch.hpp>

#include <csignal>

#include <uv.h>

#include "process/process_error.hpp"

using namespace ofwatchdog::process;

TEST_CASE("a clean exit has no error text", "[process_error]") {
  CHECK(exit_error_text(ExitStatus{}).empty());
  CHECK(ExitStatus{}.success());
}

TEST_CASE("a non-zero exit is `exit status <n>`", "[process_error]") {
  CHECK(exit_error_text(ExitStatus{3, 0}) == "exit status 3");
  CHECK(exit_error_text(ExitStatus{255, 0}) == "exit status 255");
  CHECK_FALSE(ExitStatus{1, 0}.success());
}

TEST_CASE("a signal is `signal: <name>`, with core dumps noted", "[process_error]") {
  CHECK(exit_error_text(ExitStatus{0, SIGKILL}) == "signal: killed");
  CHECK(exit_error_text(ExitStatus{0, SIGTERM}) == "signal: terminated");
  CHECK(exit_error_text(ExitStatus{0, SIGSEGV, true}) ==
        "signal: segmentation fault (core dumped)");
  CHECK(exit_error_text(ExitStatus{0, SIGABRT, true}) == "signal: aborted (core dumped)");
  CHECK_FALSE(ExitStatus{0, SIGKILL}.success());
}

TEST_CASE("signal names follow Go", "[process_error]") {
  CHECK(signal_name(SIGINT) == "interrupt");
  CHECK(signal_name(SIGHUP) == "hangup");
  CHECK(signal_name(SIGQUIT) == "quit");
  CHECK(signal_name(SIGBUS) == "bus error");
  CHECK(signal_name(SIGFPE) == "floating point exception");
  CHECK(signal_name(SIGPIPE) == "broken pipe");
  CHECK(signal_name(SIGUSR1) == "user defined signal 1");
  CHECK(signal_name(SIGUSR2) == "user defined signal 2");
  CHECK(signal_name(SIGALRM) == "alarm clock");
  CHECK(signal_name(40) == "signal 40");
}

TEST_CASE("spawn failures name the path and the reason", "[process_error]") {
  CHECK(spawn_error_text("/nonexistent", UV_ENOENT) ==
        "fork/exec /nonexistent: no such file or directory");
  CHECK(spawn_error_text("/etc/passwd", UV_EACCES) == "fork/exec /etc/passwd: permission denied");
}

TEST_CASE("a bare name missing from PATH", "[process_error]") {
  CHECK(not_in_path_text("nosuchprog") ==
        "exec: \"nosuchprog\": executable file not found in $PATH");
}
