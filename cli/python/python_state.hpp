#pragma once
// The GIL and the thread states of fwatchdog-python: which thread may run Python, and how a
// worker thread of the function pool becomes one that may.
//
// A worker gets its thread state once, when it starts (enter_worker_thread), and keeps it
// between calls with the GIL released; a call takes the GIL back for as long as it runs Python
// (GilHeld). The loop thread (the main thread) released the GIL before the watchdog started and
// takes it the same way.
#include <Python.h>

namespace ofwatchdog::python {

// Holds the GIL for its lifetime, on a thread Python knows (the main thread, or a worker after
// enter_worker_thread). Python objects a scope creates must be released before it ends.
class GilHeld {
public:
  GilHeld() : state_(PyGILState_Ensure()) {}
  ~GilHeld() { PyGILState_Release(state_); }
  GilHeld(const GilHeld&) = delete;
  GilHeld& operator=(const GilHeld&) = delete;

private:
  PyGILState_STATE state_;
};

// The function pool's thread hooks: a thread state made once per worker, kept until it stops.
void enter_worker_thread();
void leave_worker_thread();

// An owned reference, released (with the GIL held) when it goes.
struct PyRef {
  PyObject* object = nullptr;
  PyRef() = default;
  explicit PyRef(PyObject* owned) : object(owned) {}
  PyRef(PyRef&& other) noexcept : object(other.object) { other.object = nullptr; }
  PyRef& operator=(PyRef&& other) noexcept {
    std::swap(object, other.object);
    return *this;
  }
  ~PyRef() { Py_XDECREF(object); }
  PyObject* get() const { return object; }
  explicit operator bool() const { return object != nullptr; }
};

} // namespace ofwatchdog::python
