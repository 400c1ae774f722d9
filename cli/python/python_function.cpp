// make_python_mode: see python_function.hpp.
#include "python_function.hpp"

#include <memory>
#include <stdexcept>

#include "native_module.hpp"
#include "ofwatchdog/function.hpp"
#include "python_state.hpp"

namespace ofwatchdog::python {
namespace {

PyObject* latin1(std::string_view text) {
  return PyUnicode_DecodeLatin1(text.data(), static_cast<Py_ssize_t>(text.size()), nullptr);
}

// The bridge's `serve` for the handler, owned for the process's life: it is released by the
// interpreter's end, after the last call.
struct Handler {
  PyObject* serve = nullptr;
};

// The request as the bridge's arguments; nullptr (an error set) when Python is out of memory.
PyObject* arguments(const FunctionRequest& request, PyObject* call) {
  PyRef headers(PyTuple_New(static_cast<Py_ssize_t>(request.headers.size())));
  if (!headers)
    return nullptr;
  for (std::size_t i = 0; i < request.headers.size(); ++i) {
    PyObject* pair =
        Py_BuildValue("(NN)", latin1(request.headers[i].name), latin1(request.headers[i].value));
    if (pair == nullptr)
      return nullptr;
    PyTuple_SET_ITEM(headers.get(), static_cast<Py_ssize_t>(i), pair);
  }
  // The path is percent-decoded bytes, read as UTF-8 as Flask reads it.
  return Py_BuildValue("(ONNNOy#)", call, latin1(request.method),
                       PyUnicode_DecodeUTF8(request.path.data(),
                                            static_cast<Py_ssize_t>(request.path.size()),
                                            "replace"),
                       latin1(request.raw_query), headers.get(), request.body.data(),
                       static_cast<Py_ssize_t>(request.body.size()));
}

std::string bytes_of(PyObject* bytes) {
  return std::string(PyBytes_AS_STRING(bytes), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
}

// The bridge's answer: (status, [(name, value)], body) in bytes, or a str saying why there is
// none.
FunctionResponse response_of(PyObject* answer) {
  if (PyUnicode_Check(answer)) {
    const char* why = PyUnicode_AsUTF8(answer);
    throw std::runtime_error(why != nullptr ? why : "the handler failed");
  }
  FunctionResponse response;
  PyObject* lines = nullptr;
  PyObject* body = nullptr;
  if (!PyArg_ParseTuple(answer, "iO!O!", &response.status, &PyList_Type, &lines, &PyBytes_Type,
                        &body))
    throw std::runtime_error("the bridge gave a malformed answer: " + take_python_error());
  Py_ssize_t count = PyList_GET_SIZE(lines);
  response.headers.reserve(static_cast<std::size_t>(count));
  for (Py_ssize_t i = 0; i < count; ++i) {
    PyObject* line = PyList_GET_ITEM(lines, i);
    response.headers.push_back(
        {bytes_of(PyTuple_GET_ITEM(line, 0)), bytes_of(PyTuple_GET_ITEM(line, 1))});
  }
  response.body = bytes_of(body);
  return response;
}

FunctionResponse call_handler(const Handler& handler, const FunctionRequest& request,
                              CallContext& context) {
  GilHeld gil;
  PyRef call(new_call(context));
  PyRef args(call ? arguments(request, call.get()) : nullptr);
  PyRef answer(args ? PyObject_Call(handler.serve, args.get(), nullptr) : nullptr);
  if (call)
    end_call(call.get());
  if (!answer)
    throw std::runtime_error("the call did not reach the handler: " + take_python_error());
  return response_of(answer.get());
}

Function load_handler(const Interpreter& interpreter, const std::string& spec,
                      const std::string& directory) {
  GilHeld gil;
  PyRef start(interpreter.bridge("start"));
  PyRef serve(start ? PyObject_CallFunction(start.get(), "ss", spec.c_str(), directory.c_str())
                    : nullptr);
  if (!serve)
    throw std::runtime_error(take_python_error());
  if (PyUnicode_Check(serve.get())) {
    const char* why = PyUnicode_AsUTF8(serve.get());
    throw std::runtime_error(why != nullptr ? why : "the handler did not load");
  }
  auto handler = std::make_shared<Handler>();
  handler->serve = serve.object;
  serve.object = nullptr; // kept until the interpreter ends
  return [handler](const FunctionRequest& request, CallContext& context) {
    return call_handler(*handler, request, context);
  };
}

} // namespace

std::unique_ptr<ModeStrategy> make_python_mode(const Interpreter& interpreter, std::string spec,
                                               std::string directory) {
  FunctionOptions options;
  options.on_thread_start = enter_worker_thread;
  options.on_thread_stop = leave_worker_thread;
  return make_function_mode(
      [&interpreter, spec = std::move(spec), directory = std::move(directory)](const Config&) {
        return load_handler(interpreter, spec, directory);
      },
      std::move(options));
}

} // namespace ofwatchdog::python
