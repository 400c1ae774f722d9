// GuestCuda, device and memory: see guest_cuda.hpp.
#include "gpu/guest_cuda.hpp"

#include <algorithm>
#include <cstring>

namespace ofwatchdog::gpu {

GuestCuda::GuestCuda(const CudaDriver& driver, GuestCudaLimits limits, GuestCudaHooks hooks)
    : driver_(driver), limits_(limits), hooks_(std::move(hooks)) {}

GuestCuda::~GuestCuda() {
  if ((space_.count() == 0 && modules_.empty()) || !driver_.make_current())
    return;
  // Kernels of this instance may still run: its memory goes once they are done.
  driver_.api().cuCtxSynchronize();
  for (const auto& [base, allocation] : space_.live())
    driver_.api().cuMemFree_v2(allocation.device);
  space_.clear();
  for (const auto& [handle, module] : modules_)
    driver_.api().cuModuleUnload(module.driver);
  modules_.clear();
  functions_.clear();
}

CuResult GuestCuda::ready() {
  return initialized_ ? cu::success : cu::not_initialized;
}

CuResult GuestCuda::cuInit(std::uint32_t flags) {
  if (flags != 0)
    return cu::invalid_value;
  if (!driver_.ready())
    return driver_.init_result();
  // Once for the instance: it runs on this one worker thread, where nothing else changes the
  // current context, so every later call finds it current.
  if (!driver_.make_current())
    return cu::invalid_context;
  initialized_ = true;
  return cu::success;
}

CuResult GuestCuda::cuDeviceGetCount(View memory, std::uint32_t count) {
  if (!initialized_)
    return cu::not_initialized;
  return memory.store(count, std::int32_t{1}) ? cu::success : cu::invalid_value;
}

CuResult GuestCuda::cuDeviceGet(View memory, std::uint32_t device, std::int32_t ordinal) {
  if (!initialized_)
    return cu::not_initialized;
  if (ordinal != 0)
    return cu::invalid_device;
  return memory.store(device, std::int32_t{0}) ? cu::success : cu::invalid_value;
}

CuResult GuestCuda::cuDeviceGetName(View memory, std::uint32_t name, std::int32_t length,
                                    std::int32_t device) {
  if (!initialized_)
    return cu::not_initialized;
  if (device != 0)
    return cu::invalid_device;
  if (length <= 0 || !memory.contains(name, static_cast<std::uint32_t>(length)))
    return cu::invalid_value;
  char text[256] = {};
  CuResult result = driver_.api().cuDeviceGetName(text, sizeof text - 1, driver_.device());
  if (result != cu::success)
    return result;
  std::size_t size = std::min(std::strlen(text), static_cast<std::size_t>(length) - 1);
  text[size] = '\0';
  memory.store_bytes(name, text, size + 1);
  return cu::success;
}

CuResult GuestCuda::cuDeviceGetAttribute(View memory, std::uint32_t value, std::int32_t attribute,
                                         std::int32_t device) {
  if (!initialized_)
    return cu::not_initialized;
  if (device != 0)
    return cu::invalid_device;
  if (!memory.contains(value, sizeof(std::int32_t)))
    return cu::invalid_value;
  int answer = 0;
  CuResult result = driver_.api().cuDeviceGetAttribute(&answer, attribute, driver_.device());
  if (result == cu::success)
    memory.store(value, static_cast<std::int32_t>(answer));
  return result;
}

CuResult GuestCuda::cuDeviceTotalMem_v2(View memory, std::uint32_t bytes, std::int32_t device) {
  if (!initialized_)
    return cu::not_initialized;
  if (device != 0)
    return cu::invalid_device;
  // The guest's size_t is 32 bits, and what it may use is its own budget, not the device's.
  std::size_t total = 0;
  CuResult result = driver_.api().cuDeviceTotalMem_v2(&total, driver_.device());
  if (result != cu::success)
    return result;
  auto answer =
      static_cast<std::uint32_t>(std::min<std::uint64_t>({total, limits_.max_bytes, UINT32_MAX}));
  return memory.store(bytes, answer) ? cu::success : cu::invalid_value;
}

CuResult GuestCuda::cuCtxCreate_v2(View memory, std::uint32_t context, std::uint32_t flags,
                                   std::int32_t device) {
  (void)flags; // scheduling hints: the shared primary context keeps the driver's defaults
  if (CuResult result = ready(); result != cu::success)
    return result;
  if (device != 0)
    return cu::invalid_device;
  if (!memory.store(context, kGuestContextHandle))
    return cu::invalid_value;
  context_created_ = true;
  return cu::success;
}

CuResult GuestCuda::cuCtxDestroy_v2(std::uint32_t context) {
  if (!initialized_)
    return cu::not_initialized;
  if (context != kGuestContextHandle || !context_created_)
    return cu::invalid_context;
  // The primary context is shared and stays; the guest's allocations stay too, as they would
  // in the driver until freed, and go at the instance's end.
  context_created_ = false;
  return cu::success;
}

CuResult GuestCuda::cuCtxSynchronize() {
  if (CuResult result = ready(); result != cu::success)
    return result;
  return wait_for_device();
}

CuResult GuestCuda::cuMemGetInfo_v2(View memory, std::uint32_t free, std::uint32_t total) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  auto budget = static_cast<std::uint32_t>(std::min<std::uint64_t>(limits_.max_bytes, UINT32_MAX));
  auto left = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(limits_.max_bytes - used_bytes_, UINT32_MAX));
  if (!memory.contains(free, 4) || !memory.contains(total, 4))
    return cu::invalid_value;
  memory.store(free, left);
  memory.store(total, budget);
  return cu::success;
}

CuResult GuestCuda::cuMemAlloc_v2(View memory, std::uint32_t pointer, std::uint32_t bytes) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  // The driver refuses an empty allocation too.
  if (bytes == 0 || !memory.contains(pointer, sizeof(std::uint32_t)))
    return cu::invalid_value;
  if (bytes > limits_.max_bytes - used_bytes_)
    return cu::out_of_memory;
  const CudaApi& api = driver_.api();
  CuDevicePtr device = 0;
  if (CuResult result = api.cuMemAlloc_v2(&device, bytes); result != cu::success)
    return result;
  // The driver leaves new memory as it was: another guest's data must never show through.
  std::optional<std::uint32_t> base = space_.add(bytes, device);
  CuResult zeroed = base ? api.cuMemsetD8_v2(device, 0, bytes) : cu::out_of_memory;
  if (zeroed != cu::success) {
    if (base)
      space_.remove(*base);
    api.cuMemFree_v2(device);
    return zeroed;
  }
  used_bytes_ += bytes;
  memory.store(pointer, *base);
  return cu::success;
}

CuResult GuestCuda::cuMemFree_v2(std::uint32_t pointer) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  std::optional<DeviceSpace::Allocation> allocation = space_.remove(pointer);
  if (!allocation)
    return cu::invalid_value; // not an allocation's start, or freed already
  used_bytes_ -= allocation->bytes;
  return driver_.api().cuMemFree_v2(allocation->device);
}

CuResult GuestCuda::cuMemcpyHtoD_v2(View memory, std::uint32_t to, std::uint32_t from,
                                    std::uint32_t bytes) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  std::optional<CuDevicePtr> device = space_.translate(to, bytes);
  if (!device || !memory.contains(from, bytes))
    return cu::invalid_value;
  return driver_.api().cuMemcpyHtoD_v2(*device, memory.bytes(from, bytes).data(), bytes);
}

CuResult GuestCuda::cuMemcpyDtoH_v2(View memory, std::uint32_t to, std::uint32_t from,
                                    std::uint32_t bytes) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  std::optional<CuDevicePtr> device = space_.translate(from, bytes);
  if (!device || !memory.contains(to, bytes))
    return cu::invalid_value;
  // The copy waits for the kernels before it; they are waited for here, where a timeout can
  // end the wait, so that the driver's own wait is short.
  if (CuResult result = wait_for_device(); result != cu::success)
    return result;
  return driver_.api().cuMemcpyDtoH_v2(memory.bytes(to, bytes).data(), *device, bytes);
}

CuResult GuestCuda::cuMemcpyDtoD_v2(std::uint32_t to, std::uint32_t from, std::uint32_t bytes) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  std::optional<CuDevicePtr> target = space_.translate(to, bytes);
  std::optional<CuDevicePtr> source = space_.translate(from, bytes);
  if (!target || !source)
    return cu::invalid_value;
  return driver_.api().cuMemcpyDtoD_v2(*target, *source, bytes);
}

CuResult GuestCuda::memset(std::uint32_t to, std::uint64_t count, unsigned width,
                           std::uint32_t value) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  std::optional<CuDevicePtr> device = space_.translate(to, count * width);
  // The driver requires element alignment of the address, as the guest's own would.
  if (!device || *device % width != 0)
    return cu::invalid_value;
  const CudaApi& api = driver_.api();
  switch (width) {
  case 1:
    return api.cuMemsetD8_v2(*device, static_cast<unsigned char>(value), count);
  case 2:
    return api.cuMemsetD16_v2(*device, static_cast<unsigned short>(value), count);
  default:
    return api.cuMemsetD32_v2(*device, value, count);
  }
}

CuResult GuestCuda::cuMemsetD8_v2(std::uint32_t to, std::uint32_t value, std::uint32_t count) {
  return memset(to, count, 1, value);
}

CuResult GuestCuda::cuMemsetD16_v2(std::uint32_t to, std::uint32_t value, std::uint32_t count) {
  return memset(to, count, 2, value);
}

CuResult GuestCuda::cuMemsetD32_v2(std::uint32_t to, std::uint32_t value, std::uint32_t count) {
  return memset(to, count, 4, value);
}

} // namespace ofwatchdog::gpu
