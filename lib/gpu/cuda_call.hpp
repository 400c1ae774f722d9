#pragma once
// One CUDA import called by an engine (docs/wasm-gpu.md). Kept to C++17 and free of the rest of
// lib/gpu, since the interpreter engine's folder is compiled as C++17 (lib/meson.build).
#include <cstdint>

#include "wasi/host_call.hpp"

namespace ofwatchdog::gpu {

class GuestCuda;

// The functions of cuda_functions.def, in its order.
enum class CudaFunction : std::uint16_t {
#define CUDA_FUNCTION(name, params) name,
#include "gpu/cuda_functions.def"
#undef CUDA_FUNCTION
};

// The import `function` called with `args` (each an i32 widened to 64 bits) by a guest with
// `memory`; what the guest gets back. With no GuestCuda (a module run without a GPU view), every
// call answers CUDA_ERROR_NOT_INITIALIZED.
std::uint32_t call_cuda(GuestCuda* cuda, CudaFunction function, const std::uint64_t* args,
                        wasi::GuestMemory memory);

} // namespace ofwatchdog::gpu
