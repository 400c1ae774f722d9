#pragma once
// What a module's function import is bound to: a WASI preview1 function, or one of the CUDA
// driver functions a GPU guest imports from module `env` (docs/wasm-gpu.md). Both engines and
// the glue of compiled modules dispatch on it.
#include <cstdint>

#include "gpu/cuda_call.hpp"
#include "wasi/host_call.hpp"

namespace ofwatchdog::wasm {

struct HostImport {
  enum class From : std::uint8_t { wasi, cuda };
  From from = From::wasi;
  std::uint16_t index = 0; // in wasi_functions.def or cuda_functions.def

  static HostImport of(wasi::Function function) {
    return {From::wasi, static_cast<std::uint16_t>(function)};
  }
  static HostImport of(gpu::CudaFunction function) {
    return {From::cuda, static_cast<std::uint16_t>(function)};
  }
  wasi::Function wasi() const { return static_cast<wasi::Function>(index); }
  gpu::CudaFunction cuda() const { return static_cast<gpu::CudaFunction>(index); }
  // (Not defaulted: the interpreter's folder is compiled as C++17.)
  bool operator==(const HostImport& other) const {
    return from == other.from && index == other.index;
  }
};

// The number a compiled module's glue gives the runtime's host_call for CUDA import `index`:
// above every WASI function, so one entry point serves both lists.
inline constexpr std::uint32_t kCudaCallBase = 0x1000;

} // namespace ofwatchdog::wasm
