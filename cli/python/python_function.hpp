#pragma once
// The python3-http handler as a function of the library's function API (docs/python.md): the
// factory imports it on the loop thread before the port is bound; each call runs it on a
// worker thread with the GIL held only while Python runs.
#include <memory>
#include <string>

#include "interpreter.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog::python {

// `spec` names the handler as "module:function"; `directory` goes first on sys.path.
std::unique_ptr<ModeStrategy> make_python_mode(const Interpreter& interpreter, std::string spec,
                                               std::string directory);

} // namespace ofwatchdog::python
