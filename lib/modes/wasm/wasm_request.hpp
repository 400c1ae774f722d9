#pragma once
// One request's run of the module, on a worker thread of the wasm mode's pool
// (docs/decisions.md, wasm-fresh-instance to wasm-interrupt).

#include <cstdint>
#include <memory>
#include <string>

#include "gpu/cuda_driver.hpp"
#include "interp/interpreted_module.hpp"
#include "modes/wasm/wasm_settings.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "wasm/compiled_module.hpp"

namespace ofwatchdog::modes {

// The module as one engine runs it (wasm-engines): compiled ahead of time, or read for the
// interpreter. A request holds the one it was given to the end, so the switch from the
// interpreter to the compiled module under wasm_engine=auto never changes a running request.
struct ServingModule {
  std::unique_ptr<wasm::CompiledModule> compiled;
  std::unique_ptr<interp::InterpretedModule> interpreted;
  const char* engine() const { return compiled ? "aot" : "interpreter"; }
};

struct WasmRequestSetup {
  const WasmSettings* settings = nullptr;
  std::string content_type;
  std::int64_t log_buffer_size = 65536;
  std::string scratch_root; // each worker's scratch layer is a directory below it
  bool write_debug = false;
  bool cgi_headers = false; // stdout starts with a CGI head (docs/cgi-headers.md)
  // A GPU guest's driver (docs/wasm-gpu.md); null for any other module.
  const gpu::CudaDriver* cuda = nullptr;
};

// The job: answers through `work` (200, a streamed 200, or `fail` for a 500; with cgi_headers,
// the head's status, or a 502 for a bad or unfinished head) unless the request was cancelled,
// which the loop answers.
void run_wasm_request(const WasmRequestSetup& setup, const ServingModule& module,
                      WorkContext& work);

// The calling worker's sandbox is opened now rather than at its first request, so that the
// watchdog's descriptors do not change while it serves; for the pool's on_thread_start.
void prepare_wasm_worker(const WasmRequestSetup& setup);

// The calling worker's engine state (its memory slot and sandbox) is released; for the pool's
// on_thread_exit.
void release_wasm_worker();

} // namespace ofwatchdog::modes
