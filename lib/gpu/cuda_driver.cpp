// CudaDriver: see cuda_driver.hpp.
#include "gpu/cuda_driver.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

namespace ofwatchdog::gpu {

namespace {

// The name of a driver error for the log, from the driver itself when it can say.
std::string error_name(const CudaApi& api, CuResult result) {
  const char* name = nullptr;
  if (api.cuGetErrorName != nullptr && api.cuGetErrorName(result, &name) == cu::success &&
      name != nullptr)
    return fmt::format("{} ({})", name, result);
  return fmt::format("error {}", result);
}

} // namespace

std::unique_ptr<CudaDriver> CudaDriver::open(const std::string& path) {
  std::unique_ptr<CudaDriver> driver(new CudaDriver);
  driver->load(path);
  if (driver->library_ != nullptr)
    driver->start();
  return driver;
}

#ifdef OFWATCHDOG_STATIC_BINARY
// A static executable has no dynamic loader to bring the driver in (compiled_module.cpp says
// the same of compiled modules): GPU guests are told there is no device.
void CudaDriver::load(const std::string&) {
  status_line_ = "GPU: none (this static build cannot load the CUDA driver); GPU guests get "
                 "CUDA_ERROR_NO_DEVICE";
}

CudaDriver::~CudaDriver() = default;
#else
void CudaDriver::load(const std::string& path) {
  // RTLD_LOCAL: nothing of the driver may interpose on the watchdog's own symbols.
  library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library_ == nullptr) {
    status_line_ = fmt::format("GPU: none (cannot load {}: {}); GPU guests get "
                               "CUDA_ERROR_NO_DEVICE",
                               path, dlerror());
    return;
  }
  // Bound by the versioned names, as the driver's own header maps them: `cuMemAlloc` is the
  // 32-bit-size entry kept for old programs, `cuMemAlloc_v2` the one a 64-bit host needs.
  bool complete = true;
  auto bind = [&](auto& entry, const char* name, bool required = true) {
    entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(dlsym(library_, name));
    if (entry == nullptr && required) {
      complete = false;
      if (status_line_.empty())
        status_line_ = fmt::format("GPU: none ({} has no {}); GPU guests get "
                                   "CUDA_ERROR_NO_DEVICE",
                                   path, name);
    }
  };
  bind(api_.cuInit, "cuInit");
  bind(api_.cuDeviceGetCount, "cuDeviceGetCount");
  bind(api_.cuDeviceGet, "cuDeviceGet");
  bind(api_.cuDeviceGetName, "cuDeviceGetName");
  bind(api_.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  bind(api_.cuDeviceTotalMem_v2, "cuDeviceTotalMem_v2");
  bind(api_.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(api_.cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease_v2");
  bind(api_.cuCtxSetCurrent, "cuCtxSetCurrent");
  bind(api_.cuCtxSynchronize, "cuCtxSynchronize");
  bind(api_.cuMemGetInfo_v2, "cuMemGetInfo_v2");
  bind(api_.cuMemAlloc_v2, "cuMemAlloc_v2");
  bind(api_.cuMemFree_v2, "cuMemFree_v2");
  bind(api_.cuMemcpyHtoD_v2, "cuMemcpyHtoD_v2");
  bind(api_.cuMemcpyDtoH_v2, "cuMemcpyDtoH_v2");
  bind(api_.cuMemcpyDtoD_v2, "cuMemcpyDtoD_v2");
  bind(api_.cuMemsetD8_v2, "cuMemsetD8_v2");
  bind(api_.cuMemsetD16_v2, "cuMemsetD16_v2");
  bind(api_.cuMemsetD32_v2, "cuMemsetD32_v2");
  bind(api_.cuModuleLoadData, "cuModuleLoadData");
  bind(api_.cuModuleUnload, "cuModuleUnload");
  bind(api_.cuModuleGetFunction, "cuModuleGetFunction");
  bind(api_.cuLaunchKernel, "cuLaunchKernel");
  bind(api_.cuGetErrorName, "cuGetErrorName");
  bind(api_.cuStreamQuery, "cuStreamQuery", false);
  bind(api_.cuFuncGetParamInfo, "cuFuncGetParamInfo", false);
  if (!complete) {
    dlclose(library_);
    library_ = nullptr;
    api_ = CudaApi{};
  }
}

CudaDriver::~CudaDriver() {
  if (library_ == nullptr)
    return;
  if (context_ != nullptr)
    api_.cuDevicePrimaryCtxRelease_v2(device_);
  // The driver stays loaded: it starts threads of its own that must not lose their code.
}
#endif

void CudaDriver::start() {
  CuResult result = api_.cuInit(0);
  int count = 0;
  if (result == cu::success)
    result = api_.cuDeviceGetCount(&count);
  if (result == cu::success && count == 0)
    result = cu::no_device;
  if (result == cu::success)
    result = api_.cuDeviceGet(&device_, 0);
  if (result == cu::success)
    result = api_.cuDevicePrimaryCtxRetain(&context_, device_);
  if (result != cu::success) {
    context_ = nullptr;
    // A stub library (a toolkit's, for linking only) and a machine without a device are what
    // a CUDA program would see: the guest gets the same code.
    init_result_ = result == cu::stub_library ? cu::stub_library : cu::no_device;
    status_line_ = fmt::format(
        "GPU: none (the CUDA driver answered {}); GPU guests get {}", error_name(api_, result),
        init_result_ == cu::stub_library ? "CUDA_ERROR_STUB_LIBRARY" : "CUDA_ERROR_NO_DEVICE");
    return;
  }
  char name[256] = {};
  std::size_t bytes = 0;
  api_.cuDeviceGetName(name, sizeof name - 1, device_);
  api_.cuDeviceTotalMem_v2(&bytes, device_);
  init_result_ = cu::success;
  status_line_ = fmt::format("GPU: device 0 of {}, {} ({} MiB), shared by GPU guests", count, name,
                             bytes >> 20);
}

bool CudaDriver::make_current() const {
  return ready() && api_.cuCtxSetCurrent(context_) == cu::success;
}

} // namespace ofwatchdog::gpu
