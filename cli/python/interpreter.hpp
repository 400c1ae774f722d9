#pragma once
// The embedded CPython of fwatchdog-python: started before the watchdog, with the bridge
// (bridge.py) loaded and print() routed to the watchdog's log, and finished after it.
#include <Python.h>

#include <optional>
#include <string>

#include "ofwatchdog/config.hpp"

namespace ofwatchdog::python {

class Interpreter {
public:
  // Starts Debian's CPython, the one this program is linked with, whatever `python3` is first
  // on PATH: its own signal handlers off (SIGTERM and SIGINT stay the watchdog's), sys.argv the
  // program's name. On failure `failure()` says why and nothing else may be called.
  Interpreter(const char* program, const Config& config);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  const std::optional<std::string>& failure() const { return failure_; }
  // A new reference to the bridge module's attribute `name` (with the GIL held).
  PyObject* bridge(const char* name) const;

private:
  // The bridge module, compiled from the copy of bridge.py this program carries; print() goes
  // to the log from then on. With the GIL held.
  void load_bridge();

  std::optional<std::string> failure_;
  PyObject* bridge_ = nullptr;
  PyThreadState* main_state_ = nullptr; // the main thread's, while the GIL is released
};

// The pending Python exception as "Type: message", cleared; for the log.
std::string take_python_error();

} // namespace ofwatchdog::python
