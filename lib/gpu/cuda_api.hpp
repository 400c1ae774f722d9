#pragma once
// The part of NVIDIA's CUDA driver API that mode=wasm's GPU imports use, declared here from the
// driver's documented ABI on a 64-bit host, so that nothing in the build needs a CUDA toolkit.
// The names are the driver's exported (versioned) symbols; docs/wasm-gpu.md lists them.
#include <cstddef>

namespace ofwatchdog::gpu {

using CuResult = int;
using CuDevice = int;
using CuDevicePtr = unsigned long long;
struct CuContextTag;
struct CuModuleTag;
struct CuFunctionTag;
struct CuStreamTag;
using CuContext = CuContextTag*;
using CuModule = CuModuleTag*;
using CuFunction = CuFunctionTag*;
using CuStream = CuStreamTag*;

// The driver's result codes that the host itself returns to a guest (the driver's own pass
// through unchanged).
namespace cu {
inline constexpr CuResult success = 0;
inline constexpr CuResult invalid_value = 1;
inline constexpr CuResult out_of_memory = 2;
inline constexpr CuResult not_initialized = 3;
inline constexpr CuResult stub_library = 34;
inline constexpr CuResult no_device = 100;
inline constexpr CuResult invalid_device = 101;
inline constexpr CuResult invalid_image = 200;
inline constexpr CuResult invalid_context = 201;
inline constexpr CuResult file_not_found = 301;
inline constexpr CuResult invalid_handle = 400;
inline constexpr CuResult not_found = 500;
inline constexpr CuResult not_ready = 600;
inline constexpr CuResult not_supported = 801;
inline constexpr CuResult unknown = 999;
} // namespace cu

// The entry points, bound by name when the driver is loaded (CudaDriver).
struct CudaApi {
  CuResult (*cuInit)(unsigned flags) = nullptr;
  CuResult (*cuDeviceGetCount)(int* count) = nullptr;
  CuResult (*cuDeviceGet)(CuDevice* device, int ordinal) = nullptr;
  CuResult (*cuDeviceGetName)(char* name, int length, CuDevice device) = nullptr;
  CuResult (*cuDeviceGetAttribute)(int* value, int attribute, CuDevice device) = nullptr;
  CuResult (*cuDeviceTotalMem_v2)(std::size_t* bytes, CuDevice device) = nullptr;
  CuResult (*cuDevicePrimaryCtxRetain)(CuContext* context, CuDevice device) = nullptr;
  CuResult (*cuDevicePrimaryCtxRelease_v2)(CuDevice device) = nullptr;
  CuResult (*cuCtxSetCurrent)(CuContext context) = nullptr;
  CuResult (*cuCtxSynchronize)() = nullptr;
  CuResult (*cuMemGetInfo_v2)(std::size_t* free, std::size_t* total) = nullptr;
  CuResult (*cuMemAlloc_v2)(CuDevicePtr* pointer, std::size_t bytes) = nullptr;
  CuResult (*cuMemFree_v2)(CuDevicePtr pointer) = nullptr;
  CuResult (*cuMemcpyHtoD_v2)(CuDevicePtr to, const void* from, std::size_t bytes) = nullptr;
  CuResult (*cuMemcpyDtoH_v2)(void* to, CuDevicePtr from, std::size_t bytes) = nullptr;
  CuResult (*cuMemcpyDtoD_v2)(CuDevicePtr to, CuDevicePtr from, std::size_t bytes) = nullptr;
  CuResult (*cuMemsetD8_v2)(CuDevicePtr to, unsigned char value, std::size_t count) = nullptr;
  CuResult (*cuMemsetD16_v2)(CuDevicePtr to, unsigned short value, std::size_t count) = nullptr;
  CuResult (*cuMemsetD32_v2)(CuDevicePtr to, unsigned value, std::size_t count) = nullptr;
  CuResult (*cuModuleLoadData)(CuModule* module, const void* image) = nullptr;
  CuResult (*cuModuleUnload)(CuModule module) = nullptr;
  CuResult (*cuModuleGetFunction)(CuFunction* function, CuModule module,
                                  const char* name) = nullptr;
  CuResult (*cuLaunchKernel)(CuFunction function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                             unsigned block_x, unsigned block_y, unsigned block_z,
                             unsigned shared_bytes, CuStream stream, void** parameters,
                             void** extra) = nullptr;
  CuResult (*cuGetErrorName)(CuResult error, const char** name) = nullptr;
  // Optional: whether the default stream's work is done (CUDA_ERROR_NOT_READY while it is
  // not), for waits that a timeout must be able to end; without it, waits block.
  CuResult (*cuStreamQuery)(CuStream stream) = nullptr;
  // Optional (drivers of CUDA 12.4 and later): a kernel's parameter layout.
  CuResult (*cuFuncGetParamInfo)(CuFunction function, std::size_t index, std::size_t* offset,
                                 std::size_t* size) = nullptr;
};

} // namespace ofwatchdog::gpu
