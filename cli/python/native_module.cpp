// The `_ofwatchdog` module: see native_module.hpp.
#include "native_module.hpp"

#include <chrono>
#include <memory>
#include <mutex>

#include "ofwatchdog/log.hpp"

namespace ofwatchdog::python {
namespace {

// Workers print at once; the Logger is not for two threads, so one lock serialises the lines.
// They are written at once (not deferred): a handler's line comes before its request's access
// line, which the watchdog writes later.
std::mutex output_lock;
std::unique_ptr<Logger> output;

PyObject* relay(PyObject*, PyObject* args) {
  const char* stream = nullptr;
  const char* line = nullptr;
  Py_ssize_t size = 0;
  if (!PyArg_ParseTuple(args, "ss#", &stream, &line, &size))
    return nullptr;
  std::string_view name = std::string_view(stream) == "stdout" ? "stdout" : "stderr";
  std::lock_guard<std::mutex> hold(output_lock);
  if (output)
    output->relay(name, std::string_view(line, static_cast<std::size_t>(size)));
  Py_RETURN_NONE;
}

PyMethodDef module_functions[] = {
    {"relay", relay, METH_VARARGS, "relay(stream, line): a line of output into the log"},
    {nullptr, nullptr, 0, nullptr},
};

struct CallObject {
  PyObject_HEAD CallContext* context; // nullptr once the call is over
};

CallContext* context_of(PyObject* self) {
  return reinterpret_cast<CallObject*>(self)->context;
}

PyObject* call_stop_requested(PyObject* self, PyObject*) {
  CallContext* context = context_of(self);
  return PyBool_FromLong(context == nullptr || context->stop_token().stop_requested());
}

PyObject* call_time_left(PyObject* self, PyObject*) {
  CallContext* context = context_of(self);
  if (context == nullptr)
    return PyFloat_FromDouble(0);
  std::optional<Duration> left = context->time_left();
  if (!left)
    Py_RETURN_NONE;
  return PyFloat_FromDouble(std::chrono::duration<double>(*left).count());
}

PyObject* call_id(PyObject* self, void*) {
  CallContext* context = context_of(self);
  std::string_view id = context == nullptr ? std::string_view() : context->call_id();
  return PyUnicode_DecodeLatin1(id.data(), static_cast<Py_ssize_t>(id.size()), "replace");
}

PyMethodDef call_methods[] = {
    {"stop_requested", call_stop_requested, METH_NOARGS, "whether the call should stop"},
    {"time_left", call_time_left, METH_NOARGS, "seconds before the deadline, or None"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef call_fields[] = {
    {"call_id", call_id, nullptr, "the request's X-Call-Id", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot call_slots[] = {
    {Py_tp_methods, call_methods},
    {Py_tp_getset, call_fields},
    {Py_tp_doc, const_cast<char*>("What a call knows besides its request.")},
    {0, nullptr},
};

PyType_Spec call_spec = {"_ofwatchdog.Call", sizeof(CallObject), 0, Py_TPFLAGS_DEFAULT, call_slots};

PyObject* call_type = nullptr;

PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    "_ofwatchdog",
    "fwatchdog-python's native half",
    -1,
    module_functions,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

PyObject* init_module() {
  PyObject* module = PyModule_Create(&module_definition);
  if (module == nullptr)
    return nullptr;
  call_type = PyType_FromSpec(&call_spec);
  if (call_type == nullptr || PyModule_AddObjectRef(module, "Call", call_type) < 0) {
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}

} // namespace

void register_native_module() {
  PyImport_AppendInittab("_ofwatchdog", init_module);
}

void set_output_format(const Config& config) {
  std::lock_guard<std::mutex> hold(output_lock);
  output = std::make_unique<Logger>(config.log_format, config.prefix_logs);
}

PyObject* new_call(CallContext& context) {
  PyObject* call = PyType_GenericAlloc(reinterpret_cast<PyTypeObject*>(call_type), 0);
  if (call != nullptr)
    reinterpret_cast<CallObject*>(call)->context = &context;
  return call;
}

void end_call(PyObject* call) {
  reinterpret_cast<CallObject*>(call)->context = nullptr;
}

} // namespace ofwatchdog::python
