#pragma once
// The CUDA imports as the module check and the glue see them: the list (cuda_functions.def)
// and a lookup by name. cuda_call.hpp has the call itself.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "gpu/cuda_call.hpp"

namespace ofwatchdog::gpu {

struct CudaImport {
  std::string_view name;
  CudaFunction function;
  unsigned params; // each an i32, as the result
};

// Every function of the list, in its order.
std::span<const CudaImport> cuda_imports();
const CudaImport* find_cuda_import(std::string_view name);

} // namespace ofwatchdog::gpu
