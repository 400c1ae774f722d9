// fwatchdog-python: the watchdog with a python3-http handler called in-process (docs/python.md).
// It reads the same variables as fwatchdog; `mode` is `inproc`, `fprocess` names the handler
// as module:function (default function.handler:handle, imported from the working directory),
// and `inproc_threads` defaults to 16, since a Python handler that waits on I/O lets others run.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "interpreter.hpp"
#include "ofwatchdog/watchdog.hpp"
#include "python_function.hpp"

namespace {

constexpr std::string_view kDefaultHandler = "function.handler:handle";
// Worker threads when `inproc_threads` is unset: with the GIL one runs Python at a time, and
// the others wait on I/O, so they are many more than the CPUs; each idle one costs a stack.
constexpr std::string_view kDefaultThreads = "inproc_threads=16";

std::string working_directory() {
  std::vector<char> buffer(4096);
  while (::getcwd(buffer.data(), buffer.size()) == nullptr) {
    if (errno != ERANGE)
      return ".";
    buffer.resize(buffer.size() * 2);
  }
  return buffer.data();
}

} // namespace

int main(int argc, char** argv) {
  std::string_view flag = argc > 1 ? argv[1] : "";
  if (flag == "-version" || flag == "--version") {
    std::printf("fwatchdog-python %s (SHA %s), Python %s\n", ofwatchdog::version(),
                ofwatchdog::git_sha(), Py_GetVersion());
    return 0;
  }
  if (flag == "-run-healthcheck" || flag == "--run-healthcheck")
    return ofwatchdog::run_healthcheck(ofwatchdog::process_environment());
  if (argc > 1) {
    std::fprintf(stderr,
                 "usage: %s [-version | -run-healthcheck]\n"
                 "The handler and everything else come from the environment "
                 "(docs/python.md).\n",
                 argv[0]);
    return 2;
  }

  std::vector<std::string> environment = ofwatchdog::process_environment();
  environment.insert(environment.begin(), std::string(kDefaultThreads));
  ofwatchdog::ConfigResult loaded = ofwatchdog::load_function_config(std::move(environment));
  if (!loaded.ok())
    return loaded.error().exit_code;
  ofwatchdog::Config& config = loaded.config();
  if (config.mode != "inproc") {
    std::fprintf(stderr,
                 "Error loading config: mode %s: fwatchdog-python serves mode=inproc "
                 "only\n",
                 config.mode.c_str());
    return 2;
  }
  if (config.fprocess_argv.size() > 1 || config.fprocess.find(' ') != std::string::npos) {
    std::fprintf(stderr,
                 "Error loading config: fprocess %s: expected the handler as "
                 "module:function\n",
                 config.fprocess.c_str());
    return 1;
  }
  std::string handler = config.fprocess.empty() ? std::string(kDefaultHandler) : config.fprocess;

  ofwatchdog::python::Interpreter interpreter(argv[0], config);
  if (interpreter.failure()) {
    std::fprintf(stderr, "%s\n", interpreter.failure()->c_str());
    return 1;
  }
  ofwatchdog::Watchdog watchdog(
      std::move(config),
      ofwatchdog::python::make_python_mode(interpreter, std::move(handler), working_directory()));
  return watchdog.run();
}
