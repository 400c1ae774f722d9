#pragma once
// A kernel's parameters, from the guest's `kernelParams` to what the driver launches with
// (docs/wasm-gpu.md, "Kernel parameters").
//
// cuLaunchKernel takes an array of pointers, one per parameter, each to the parameter's value.
// In a wasm32 guest those pointers are 32-bit offsets into its memory, and a device pointer is
// its 32-bit guest address, while the kernel, compiled for a 64-bit host, takes 8-byte device
// pointers. So the host reads the kernel's own layout (from the driver's cuFuncGetParamInfo, or
// from the module's PTX on older drivers) and builds each value:
//  - 1, 2 and 4 bytes: copied from the guest;
//  - 8 bytes: the guest's 32-bit device address, translated to the driver's, whole-allocation
//    checked, and widened (0 stays 0, a null pointer). An 8-byte integer or double cannot be
//    told apart from a pointer there, so it must be a device address too: such kernels are
//    refused rather than handed a forged pointer;
//  - anything else (a struct by value) is refused: it could carry a device pointer that no
//    check would see.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gpu/cuda_api.hpp"
#include "gpu/device_space.hpp"
#include "wasi/guest_view.hpp"

namespace ofwatchdog::gpu {

struct ParamSlot {
  std::size_t offset = 0;
  std::size_t size = 0;
};
using ParamLayout = std::vector<ParamSlot>;

// The parameters of `.entry name(...)` in PTX text, or nothing when the entry is not there or
// its list cannot be read.
std::optional<ParamLayout> ptx_entry_params(std::string_view ptx, std::string_view name);

// The values, and the array of pointers to them, for one launch.
struct Marshalled {
  std::vector<std::uint64_t> values; // one 8-byte cell per parameter
  std::vector<void*> pointers;       // into `values`
};
struct MarshalError {
  std::string why; // for the log, e.g. "parameter 2 (8 bytes) is not a device address"
};

std::variant<Marshalled, MarshalError> marshal_params(const ParamLayout& layout,
                                                      const wasi::GuestView& memory,
                                                      std::uint32_t params,
                                                      const DeviceSpace& space);

} // namespace ofwatchdog::gpu
