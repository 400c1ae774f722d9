#pragma once
// mode=wasm's own variables (the wasm_* rows of docs/config.md's table; docs/decisions.md,
// wasm-module-check, wasm-stdio-env, wasm-queue, wasm-memory-limit, wasm-engines), read
// and checked once by the mode's `configure` (so a bad value stops start-up naming it) and again
// when the mode is made, from the same environment.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/mode_registry.hpp"

namespace ofwatchdog::modes {

enum class WasmEngine { automatic, aot, interpreter };
// Where /scale-reader and /scale-updater are served (docs/decisions.md, wasm-replica-endpoints).
enum class ScaleEndpoints { metrics_port, main_port, off };

struct WasmSettings {
  std::string wasm_root;         // absolute
  std::string module_path;       // absolute: <wasm_root>/bin/<name>, or the path given
  std::string module_name;       // the first fprocess token, argv[0] of the guest
  std::vector<std::string> args; // the other fprocess tokens
  std::string data_dir;          // <wasm_root>/data/<module_name>
  std::string cache_dir;         // wasm_cache, default <wasm_root>/cache
  std::vector<std::string> passed_environment; // "NAME=value" of the names in wasm_env
  unsigned instances = 1;                      // wasm_instances
  std::size_t queue = 4;                       // wasm_queue
  std::uint64_t max_memory = 256u << 20;       // wasm_max_memory, bytes
  WasmEngine engine = WasmEngine::automatic;
  ScaleEndpoints scale_endpoints = ScaleEndpoints::metrics_port;
  bool write_debug = false; // write_debug=true: the per-run lines of the fork (wasm-log)
  // A GPU guest's CUDA imports (docs/wasm-gpu.md): the driver library, and what one instance
  // may hold allocated on the device.
  std::string cuda_driver = "libcuda.so.1";          // wasm_cuda_driver
  std::uint64_t gpu_memory = std::uint64_t{1} << 30; // wasm_gpu_memory, bytes
};

constexpr unsigned kMaxWasmInstances = 65535;

// The CPUs this process may run on (its affinity mask), at least 1.
unsigned usable_cpus();

// Reads the wasm_* variables; `config` supplies fprocess, wasm_root and the environment.
std::variant<WasmSettings, ConfigError> read_wasm_settings(const VariableLookup& variables,
                                                           const Config& config);
// The same, with the variables looked up in `config.environment` (last entry wins).
std::variant<WasmSettings, ConfigError> read_wasm_settings(const Config& config);

// The settings as `name=value` pairs for -print-config (empty when they do not read).
std::vector<std::pair<std::string, std::string>> describe_wasm_settings(const Config& config);

} // namespace ofwatchdog::modes
