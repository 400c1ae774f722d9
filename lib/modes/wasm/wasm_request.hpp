#pragma once
// One request's run of the module, on a worker thread of the wasm mode's pool (W2-W6).

#include <cstdint>
#include <string>

#include "modes/wasm/wasm_settings.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "wasm/compiled_module.hpp"

namespace ofwatchdog::modes {

struct WasmRequestSetup {
  const WasmSettings* settings = nullptr;
  const wasm::CompiledModule* module = nullptr;
  std::string content_type;
  std::int64_t log_buffer_size = 65536;
  std::string scratch_root; // each worker's scratch layer is a directory below it
  bool write_debug = false;
};

// The job: answers through `work` (200, a streamed 200, or `fail` for a 500) unless the request
// was cancelled, which the loop answers.
void run_wasm_request(const WasmRequestSetup& setup, WorkContext& work);

// The calling worker's engine state (its memory slot and sandbox) is released; for the pool's
// on_thread_exit.
void release_wasm_worker();

} // namespace ofwatchdog::modes
