#pragma once
// One wasm instance's view of the GPU (docs/wasm-gpu.md): the CUDA driver functions the fork's
// guests import from module `env`, each taking and returning i32 (CUresult, guest pointers,
// 32-bit device addresses), carried out on the process's driver with everything the guest
// names checked first. The guest is untrusted:
//  - every guest range (a pointer and a length into its linear memory) is checked in 64-bit
//    arithmetic before a byte moves (wasi::GuestView);
//  - device addresses are those of the instance's DeviceSpace, never the driver's, and every
//    device range must lie in one of the instance's own allocations;
//  - allocations are zero-filled, bounded in total by `max_bytes`, and all freed when the
//    instance ends, however it ends.
// A check that fails answers CUDA_ERROR_INVALID_VALUE (or the code the driver gives for the
// same mistake), never a trap: a guest may test for errors as a CUDA program does.
//
// Used on the instance's worker thread only.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "gpu/cuda_driver.hpp"
#include "gpu/device_space.hpp"
#include "gpu/kernel_params.hpp"
#include "wasi/guest_view.hpp"

namespace ofwatchdog::gpu {

struct GuestCudaLimits {
  std::uint64_t max_bytes = std::uint64_t{1} << 30; // `wasm_gpu_memory`: all live allocations
  std::uint64_t max_ptx_bytes = 8 << 20;            // one module's PTX, from memory or a file
  std::uint32_t max_block_threads = 1024;           // x * y * z of a block
  std::uint32_t max_shared_bytes = 48 << 10;        // dynamic shared memory of a launch
};

// What the instance lends its GPU view.
struct GuestCudaHooks {
  // The file a guest's cuModuleLoad names, read inside its WASI sandbox with the sandbox's
  // rules, at most `limit` bytes: its text, or the CUDA error to answer (file not found...).
  std::function<std::variant<std::string, CuResult>(std::string_view path, std::uint64_t limit)>
      read_file;
  // Whether the request is over (a timeout, a client gone): a wait for the device ends then.
  std::function<bool()> cancelled;
  // A line for the log: why a call was refused when the CUDA code alone would not say.
  std::function<void(std::string_view)> log;
};

class GuestCuda {
public:
  GuestCuda(const CudaDriver& driver, GuestCudaLimits limits, GuestCudaHooks hooks = {});
  ~GuestCuda(); // frees what the guest left allocated
  GuestCuda(const GuestCuda&) = delete;
  GuestCuda& operator=(const GuestCuda&) = delete;

  using View = const wasi::GuestView&;

  // The imports, named as the guest imports them (their arguments as the guest passes them).
  CuResult cuInit(std::uint32_t flags);
  CuResult cuDeviceGetCount(View memory, std::uint32_t count);
  CuResult cuDeviceGet(View memory, std::uint32_t device, std::int32_t ordinal);
  CuResult cuDeviceGetName(View memory, std::uint32_t name, std::int32_t length,
                           std::int32_t device);
  CuResult cuDeviceGetAttribute(View memory, std::uint32_t value, std::int32_t attribute,
                                std::int32_t device);
  CuResult cuDeviceTotalMem_v2(View memory, std::uint32_t bytes, std::int32_t device);
  CuResult cuCtxCreate_v2(View memory, std::uint32_t context, std::uint32_t flags,
                          std::int32_t device);
  CuResult cuCtxDestroy_v2(std::uint32_t context);
  CuResult cuCtxSynchronize();
  CuResult cuMemGetInfo_v2(View memory, std::uint32_t free, std::uint32_t total);
  CuResult cuMemAlloc_v2(View memory, std::uint32_t pointer, std::uint32_t bytes);
  CuResult cuMemFree_v2(std::uint32_t pointer);
  CuResult cuMemcpyHtoD_v2(View memory, std::uint32_t to, std::uint32_t from, std::uint32_t bytes);
  CuResult cuMemcpyDtoH_v2(View memory, std::uint32_t to, std::uint32_t from, std::uint32_t bytes);
  CuResult cuMemcpyDtoD_v2(std::uint32_t to, std::uint32_t from, std::uint32_t bytes);
  CuResult cuMemsetD8_v2(std::uint32_t to, std::uint32_t value, std::uint32_t count);
  CuResult cuMemsetD16_v2(std::uint32_t to, std::uint32_t value, std::uint32_t count);
  CuResult cuMemsetD32_v2(std::uint32_t to, std::uint32_t value, std::uint32_t count);
  // guest_modules.cpp
  CuResult cuModuleLoad(View memory, std::uint32_t module, std::uint32_t path);
  CuResult cuModuleLoadData(View memory, std::uint32_t module, std::uint32_t image);
  CuResult cuModuleUnload(std::uint32_t module);
  CuResult cuModuleGetFunction(View memory, std::uint32_t function, std::uint32_t module,
                               std::uint32_t name);
  CuResult cuLaunchKernel(View memory, std::uint32_t function, std::uint32_t grid_x,
                          std::uint32_t grid_y, std::uint32_t grid_z, std::uint32_t block_x,
                          std::uint32_t block_y, std::uint32_t block_z, std::uint32_t shared_bytes,
                          std::uint32_t stream, std::uint32_t params, std::uint32_t extra);
  // The driver gives a static string; a guest can be given no host pointer, so it gets
  // CUDA_ERROR_INVALID_VALUE and a null name, as for a code the driver does not know.
  CuResult cuGetErrorName(View memory, std::uint32_t error, std::uint32_t name);

  std::size_t live_allocations() const { return space_.count(); }
  std::size_t live_modules() const { return modules_.size(); }
  std::uint64_t live_bytes() const { return used_bytes_; }

private:
  // Whether the guest's cuInit succeeded, which made the shared context current on this
  // instance's thread.
  CuResult ready();
  CuResult memset(std::uint32_t to, std::uint64_t count, unsigned width, std::uint32_t value);
  // Waits until the device has done the work queued so far, in slices that a cancelled request
  // ends (a kernel already running finishes on the device).
  CuResult wait_for_device();
  CuResult load_module(View memory, std::uint32_t module, std::string ptx);
  void refuse(std::string_view why) const;

  struct LoadedModule {
    CuModule driver = nullptr;
    std::string ptx; // for the parameter layout when the driver cannot give it
  };
  struct FoundFunction {
    CuFunction driver = nullptr;
    std::uint32_t module = 0;
    ParamLayout layout;
  };
  std::map<std::uint32_t, LoadedModule> modules_;
  std::map<std::uint32_t, FoundFunction> functions_;
  std::uint32_t next_handle_ = 1; // modules and functions: small numbers, never reused

  const CudaDriver& driver_;
  GuestCudaLimits limits_;
  GuestCudaHooks hooks_;
  DeviceSpace space_;
  std::uint64_t used_bytes_ = 0;
  bool initialized_ = false;
  bool context_created_ = false;
};

// The handle a guest's cuCtxCreate_v2 gets for the primary context: any small value will do,
// since the guest can only hand it back.
inline constexpr std::uint32_t kGuestContextHandle = 1;

} // namespace ofwatchdog::gpu
