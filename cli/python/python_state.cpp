// enter_worker_thread and leave_worker_thread: see python_state.hpp.
#include "python_state.hpp"

namespace ofwatchdog::python {
namespace {

// A worker's registration with Python: made by PyGILState_Ensure, kept alive between calls by
// this outermost Ensure, which is released only when the thread stops. Without it every call
// would make and free a thread state.
thread_local PyGILState_STATE worker_registration;
thread_local PyThreadState* worker_state = nullptr;

} // namespace

void enter_worker_thread() {
  worker_registration = PyGILState_Ensure();
  worker_state = PyEval_SaveThread();
}

void leave_worker_thread() {
  if (worker_state == nullptr)
    return;
  PyEval_RestoreThread(worker_state);
  worker_state = nullptr;
  PyGILState_Release(worker_registration);
}

} // namespace ofwatchdog::python
