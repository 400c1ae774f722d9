// Interpreter: see interpreter.hpp.
#include "interpreter.hpp"

#include "bridge_source.hpp"
#include "native_module.hpp"
#include "python_state.hpp"

namespace ofwatchdog::python {
namespace {

std::string status_text(const PyStatus& status) {
  std::string text = status.err_msg != nullptr ? status.err_msg : "unknown failure";
  if (status.func != nullptr)
    text = std::string(status.func) + ": " + text;
  return text;
}

} // namespace

std::string take_python_error() {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* trace = nullptr;
  PyErr_Fetch(&type, &value, &trace);
  std::string text = "an unknown Python error";
  if (type != nullptr) {
    PyRef name(PyObject_GetAttrString(type, "__name__"));
    PyRef message(value != nullptr ? PyObject_Str(value) : nullptr);
    const char* n = name ? PyUnicode_AsUTF8(name.get()) : nullptr;
    const char* m = message ? PyUnicode_AsUTF8(message.get()) : nullptr;
    text = std::string(n != nullptr ? n : "Exception") + ": " + (m != nullptr ? m : "");
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(trace);
  PyErr_Clear();
  return text;
}

Interpreter::Interpreter(const char* program, const Config& config) {
  set_output_format(config);
  register_native_module();
  PyConfig python;
  PyConfig_InitPythonConfig(&python);
  python.install_signal_handlers = 0;
  python.parse_argv = 0;
  char* argv[] = {const_cast<char*>(program), nullptr};
  PyStatus status = PyConfig_SetBytesString(&python, &python.program_name, program);
  if (!PyStatus_Exception(status))
    status = PyConfig_SetBytesArgv(&python, 1, argv);
  if (!PyStatus_Exception(status))
    status = Py_InitializeFromConfig(&python);
  PyConfig_Clear(&python);
  if (PyStatus_Exception(status)) {
    failure_ = "Python did not start: " + status_text(status);
    return;
  }
  load_bridge();
  // From here on the GIL is taken by whoever runs Python: the loop thread or a worker.
  main_state_ = PyEval_SaveThread();
}

Interpreter::~Interpreter() {
  if (main_state_ == nullptr)
    return;
  PyEval_RestoreThread(main_state_);
  Py_XDECREF(bridge_);
  // Runs atexit functions and waits for threads the handler started, as python3 would at its
  // end; the watchdog's own threads are all gone by now.
  Py_FinalizeEx();
}

void Interpreter::load_bridge() {
  PyRef code(Py_CompileString(kBridgeSource, "<fwatchdog-python bridge>", Py_file_input));
  PyObject* module = code ? PyImport_ExecCodeModule("_ofwatchdog_bridge", code.get()) : nullptr;
  if (module == nullptr) {
    failure_ = "the bridge did not load: " + take_python_error();
    return;
  }
  bridge_ = module;
  PyRef routed(PyObject_CallMethod(bridge_, "route_output", nullptr));
  if (!routed)
    failure_ = "the output did not route: " + take_python_error();
}

PyObject* Interpreter::bridge(const char* name) const {
  return PyObject_GetAttrString(bridge_, name);
}

} // namespace ofwatchdog::python
