#pragma once
// mode=wasm (docs/wasm-mode.md; the mode=wasm rules of docs/decisions.md): each request runs a WASI
// module's _start in a fresh instance on a worker thread of the mode's pool, with the request body
// as stdin, its Http_* variables as the environment and stdout as the response.
//
//   handle (loop)  -> 429 when the queue is full, else a DeadlineExchange (exec_timeout, 504,
//                     the access line) submitted to the WorkerPool
//   job (worker)   -> run_wasm_request: fresh instance in the worker's memory slot, sandbox
//                     reset, outcome -> 200 with Content-Length, streamed 200, 500, or nothing
//                     (the loop has answered a timeout or lost the client)

#include <memory>
#include <optional>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/mode_registry.hpp"
#include "ofwatchdog/mode_strategy.hpp"

namespace ofwatchdog {
// The mode's variables, checked at configuration time.
std::optional<ConfigError> check_wasm_variables(const VariableLookup& variables, Config& config);
std::unique_ptr<ModeStrategy> make_wasm_mode();
} // namespace ofwatchdog
