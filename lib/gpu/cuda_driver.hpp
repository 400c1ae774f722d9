#pragma once
// The CUDA driver of the process, for mode=wasm's GPU imports (docs/wasm-gpu.md): loaded once,
// at run time, from `libcuda.so.1` or the path `wasm_cuda_driver` names, with its entry points
// bound by their versioned names and device 0's primary context retained. Every guest shares
// that one context; their allocations and modules are kept apart by the host (GuestCuda).
//
// A machine without the library, a toolkit's stub library, or a driver that sees no device
// still runs GPU modules: `init_result` is what the guest's cuInit gets (no device, or the
// stub's code), so that a guest can fall back to the CPU. The static binary loads no shared
// library and always answers "no device".
#include <memory>
#include <string>
#include <string_view>

#include "gpu/cuda_api.hpp"

namespace ofwatchdog::gpu {

class CudaDriver {
public:
  // Loads the library at `path` (a name dlopen searches for, or a path). Never fails: a driver
  // that cannot serve says why in `status_line` and answers every guest's cuInit with an error.
  static std::unique_ptr<CudaDriver> open(const std::string& path);
  ~CudaDriver();
  CudaDriver(const CudaDriver&) = delete;
  CudaDriver& operator=(const CudaDriver&) = delete;

  // Whether guests get a device: the library loaded, cuInit succeeded and device 0's primary
  // context is retained.
  bool ready() const { return init_result_ == cu::success; }
  // What a guest's cuInit returns.
  CuResult init_result() const { return init_result_; }
  // One line for the log, said once at start-up: the device's name and memory, or why there is
  // none.
  const std::string& status_line() const { return status_line_; }
  // Valid when ready.
  const CudaApi& api() const { return api_; }
  CuDevice device() const { return device_; }
  // Makes the primary context current on the calling thread (each worker, before each call).
  bool make_current() const;

private:
  CudaDriver() = default;
  void load(const std::string& path);
  void start();

  void* library_ = nullptr;
  CudaApi api_;
  CuDevice device_ = 0;
  CuContext context_ = nullptr;
  CuResult init_result_ = cu::no_device;
  std::string status_line_;
};

} // namespace ofwatchdog::gpu
