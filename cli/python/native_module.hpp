#pragma once
// `_ofwatchdog`, the module fwatchdog-python builds into its interpreter for bridge.py:
//   relay(stream, line)   a line of the function's output ("stdout" or "stderr") into the
//                         watchdog's log, formatted as a forked function's (log_format,
//                         prefix_logs), from any thread;
//   Call                  what one call knows besides its request (its id, the time it has
//                         left, whether it should stop), valid while the call runs.
#include <Python.h>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/function.hpp"

namespace ofwatchdog::python {

// Registers the module; before the interpreter starts.
void register_native_module();
// Where relayed lines go: a logger of their own, in the configuration's format; before any
// Python code runs.
void set_output_format(const Config& config);

// A new reference to a Call for `context`, or nullptr with a Python error set.
PyObject* new_call(CallContext& context);
// The call is over: the object may outlive it in the handler's hands, and from now on it says
// that the call should stop and has no time left.
void end_call(PyObject* call);

} // namespace ofwatchdog::python
