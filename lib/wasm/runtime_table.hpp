#pragma once
// The runtime behind every compiled module's wasm_rt_* calls and WASI imports: the table the
// watchdog passes to a module's entry point (module_abi.h). Its functions run on a GuestThread
// during InstanceRunner::run and act on that thread's current run.

#include "wasm/module_abi.h"

namespace ofwatchdog::wasm {

const ofw_runtime_v1& runtime_table();

} // namespace ofwatchdog::wasm
