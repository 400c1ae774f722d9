// cuda_imports and call_cuda: see cuda_imports.hpp.
#include "gpu/cuda_imports.hpp"

#include "gpu/guest_cuda.hpp"

namespace ofwatchdog::gpu {

namespace {

constexpr CudaImport kImports[] = {
#define CUDA_FUNCTION(name, params) {#name, CudaFunction::name, params},
#include "gpu/cuda_functions.def"
#undef CUDA_FUNCTION
};

} // namespace

std::span<const CudaImport> cuda_imports() {
  return kImports;
}

const CudaImport* find_cuda_import(std::string_view name) {
  for (const CudaImport& import : kImports) {
    if (import.name == name)
      return &import;
  }
  return nullptr;
}

std::uint32_t call_cuda(GuestCuda* cuda, CudaFunction function, const std::uint64_t* args,
                        wasi::GuestMemory memory) {
  if (cuda == nullptr)
    return static_cast<std::uint32_t>(cu::not_initialized);
  wasi::GuestView view(memory);
  // The guest's i32s: unsigned for pointers, sizes and addresses, signed where the driver's
  // parameter is an int.
  auto u = [args](int i) { return static_cast<std::uint32_t>(args[i]); };
  auto s = [args](int i) { return static_cast<std::int32_t>(static_cast<std::uint32_t>(args[i])); };
  CuResult result = cu::not_supported;
  switch (function) {
  case CudaFunction::cuInit:
    result = cuda->cuInit(u(0));
    break;
  case CudaFunction::cuDeviceGetCount:
    result = cuda->cuDeviceGetCount(view, u(0));
    break;
  case CudaFunction::cuDeviceGet:
    result = cuda->cuDeviceGet(view, u(0), s(1));
    break;
  case CudaFunction::cuDeviceGetName:
    result = cuda->cuDeviceGetName(view, u(0), s(1), s(2));
    break;
  case CudaFunction::cuDeviceGetAttribute:
    result = cuda->cuDeviceGetAttribute(view, u(0), s(1), s(2));
    break;
  case CudaFunction::cuDeviceTotalMem_v2:
    result = cuda->cuDeviceTotalMem_v2(view, u(0), s(1));
    break;
  case CudaFunction::cuCtxCreate_v2:
    result = cuda->cuCtxCreate_v2(view, u(0), u(1), s(2));
    break;
  case CudaFunction::cuCtxDestroy_v2:
    result = cuda->cuCtxDestroy_v2(u(0));
    break;
  case CudaFunction::cuCtxSynchronize:
    result = cuda->cuCtxSynchronize();
    break;
  case CudaFunction::cuMemGetInfo_v2:
    result = cuda->cuMemGetInfo_v2(view, u(0), u(1));
    break;
  case CudaFunction::cuMemAlloc_v2:
    result = cuda->cuMemAlloc_v2(view, u(0), u(1));
    break;
  case CudaFunction::cuMemFree_v2:
    result = cuda->cuMemFree_v2(u(0));
    break;
  case CudaFunction::cuMemcpyHtoD_v2:
    result = cuda->cuMemcpyHtoD_v2(view, u(0), u(1), u(2));
    break;
  case CudaFunction::cuMemcpyDtoH_v2:
    result = cuda->cuMemcpyDtoH_v2(view, u(0), u(1), u(2));
    break;
  case CudaFunction::cuMemcpyDtoD_v2:
    result = cuda->cuMemcpyDtoD_v2(u(0), u(1), u(2));
    break;
  case CudaFunction::cuMemsetD8_v2:
    result = cuda->cuMemsetD8_v2(u(0), u(1), u(2));
    break;
  case CudaFunction::cuMemsetD16_v2:
    result = cuda->cuMemsetD16_v2(u(0), u(1), u(2));
    break;
  case CudaFunction::cuMemsetD32_v2:
    result = cuda->cuMemsetD32_v2(u(0), u(1), u(2));
    break;
  case CudaFunction::cuModuleLoad:
    result = cuda->cuModuleLoad(view, u(0), u(1));
    break;
  case CudaFunction::cuModuleLoadData:
    result = cuda->cuModuleLoadData(view, u(0), u(1));
    break;
  case CudaFunction::cuModuleGetFunction:
    result = cuda->cuModuleGetFunction(view, u(0), u(1), u(2));
    break;
  case CudaFunction::cuModuleUnload:
    result = cuda->cuModuleUnload(u(0));
    break;
  case CudaFunction::cuLaunchKernel:
    result = cuda->cuLaunchKernel(view, u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7), u(8), u(9),
                                  u(10));
    break;
  case CudaFunction::cuGetErrorName:
    result = cuda->cuGetErrorName(view, u(0), u(1));
    break;
  }
  return static_cast<std::uint32_t>(result);
}

} // namespace ofwatchdog::gpu
