// GuestCuda, modules and kernels: see guest_cuda.hpp and kernel_params.hpp.
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "gpu/guest_cuda.hpp"

namespace ofwatchdog::gpu {

namespace {

// The longest kernel name a guest may look up.
constexpr std::uint64_t kMaxNameBytes = 1024;
// How long one slice of a wait for the device sleeps before it looks at the request again.
constexpr auto kWaitSlice = std::chrono::microseconds(200);

// The NUL-terminated string at `at`, at most `limit` bytes before its NUL, all inside guest
// memory; nothing when it is not.
std::optional<std::string> guest_string(const wasi::GuestView& memory, std::uint32_t at,
                                        std::uint64_t limit) {
  for (std::uint64_t length = 0; length <= limit; ++length) {
    if (!memory.contains(at, length + 1))
      return std::nullopt;
    if (memory.bytes(at + length, 1)[0] == 0)
      return std::string(memory.text(at, length));
  }
  return std::nullopt;
}

} // namespace

void GuestCuda::refuse(std::string_view why) const {
  if (hooks_.log)
    hooks_.log(why);
}

CuResult GuestCuda::wait_for_device() {
  const CudaApi& api = driver_.api();
  if (api.cuStreamQuery == nullptr)
    return api.cuCtxSynchronize();
  for (;;) {
    CuResult state = api.cuStreamQuery(nullptr);
    if (state != cu::not_ready)
      return state == cu::success ? api.cuCtxSynchronize() : state;
    if (hooks_.cancelled && hooks_.cancelled())
      return cu::unknown; // the request is over; the guest is about to be stopped
    std::this_thread::sleep_for(kWaitSlice);
  }
}

CuResult GuestCuda::load_module(View memory, std::uint32_t module, std::string ptx) {
  if (!memory.contains(module, 4))
    return cu::invalid_value;
  CuModule loaded = nullptr;
  if (CuResult result = driver_.api().cuModuleLoadData(&loaded, ptx.c_str()); result != cu::success)
    return result;
  std::uint32_t handle = next_handle_++;
  modules_.emplace(handle, LoadedModule{loaded, std::move(ptx)});
  memory.store(module, handle);
  return cu::success;
}

CuResult GuestCuda::cuModuleLoadData(View memory, std::uint32_t module, std::uint32_t image) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  std::optional<std::string> ptx = guest_string(memory, image, limits_.max_ptx_bytes);
  if (!ptx) {
    refuse(fmt::format("cuModuleLoadData: the image is not PTX text of at most {} bytes ending "
                       "inside the guest's memory",
                       limits_.max_ptx_bytes));
    return cu::invalid_value;
  }
  return load_module(memory, module, std::move(*ptx));
}

CuResult GuestCuda::cuModuleLoad(View memory, std::uint32_t module, std::uint32_t path) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  std::optional<std::string> name = guest_string(memory, path, kMaxNameBytes);
  if (!name)
    return cu::invalid_value;
  if (!hooks_.read_file)
    return cu::file_not_found;
  auto read = hooks_.read_file(*name, limits_.max_ptx_bytes);
  if (CuResult* error = std::get_if<CuResult>(&read))
    return *error;
  return load_module(memory, module, std::move(std::get<std::string>(read)));
}

CuResult GuestCuda::cuModuleUnload(std::uint32_t module) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  auto found = modules_.find(module);
  if (found == modules_.end())
    return cu::invalid_handle;
  // Its kernels may still run, and its functions must not be launched again.
  if (CuResult result = wait_for_device(); result != cu::success)
    return result;
  std::erase_if(functions_, [module](const auto& entry) { return entry.second.module == module; });
  CuModule driver_module = found->second.driver;
  modules_.erase(found);
  return driver_.api().cuModuleUnload(driver_module);
}

CuResult GuestCuda::cuModuleGetFunction(View memory, std::uint32_t function, std::uint32_t module,
                                        std::uint32_t name) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  auto found = modules_.find(module);
  if (found == modules_.end())
    return cu::invalid_handle;
  std::optional<std::string> entry = guest_string(memory, name, kMaxNameBytes);
  if (!entry || !memory.contains(function, 4))
    return cu::invalid_value;
  const CudaApi& api = driver_.api();
  CuFunction kernel = nullptr;
  if (CuResult result = api.cuModuleGetFunction(&kernel, found->second.driver, entry->c_str());
      result != cu::success)
    return result;
  // The layout: the driver's, else read from the module's PTX.
  ParamLayout layout;
  bool known = false;
  if (api.cuFuncGetParamInfo != nullptr) {
    known = true;
    for (std::size_t i = 0;; ++i) {
      ParamSlot slot;
      if (api.cuFuncGetParamInfo(kernel, i, &slot.offset, &slot.size) != cu::success)
        break;
      layout.push_back(slot);
    }
  }
  if (!known) {
    std::optional<ParamLayout> parsed = ptx_entry_params(found->second.ptx, *entry);
    if (!parsed) {
      refuse(fmt::format("cuModuleGetFunction: the parameters of {} cannot be read from its PTX",
                         *entry));
      return cu::not_supported;
    }
    layout = std::move(*parsed);
  }
  std::uint32_t handle = next_handle_++;
  functions_.emplace(handle, FoundFunction{kernel, module, std::move(layout)});
  memory.store(function, handle);
  return cu::success;
}

CuResult GuestCuda::cuLaunchKernel(View memory, std::uint32_t function, std::uint32_t grid_x,
                                   std::uint32_t grid_y, std::uint32_t grid_z,
                                   std::uint32_t block_x, std::uint32_t block_y,
                                   std::uint32_t block_z, std::uint32_t shared_bytes,
                                   std::uint32_t stream, std::uint32_t params,
                                   std::uint32_t extra) {
  if (CuResult result = ready(); result != cu::success)
    return result;
  auto found = functions_.find(function);
  if (found == functions_.end())
    return cu::invalid_handle;
  // Streams and `extra` (a packed parameter buffer with no layout to check) are not offered.
  if (stream != 0 || extra != 0) {
    refuse("cuLaunchKernel: streams and the extra parameter buffer are not supported");
    return cu::invalid_value;
  }
  std::uint64_t threads = std::uint64_t{block_x} * block_y * block_z;
  if (threads == 0 || threads > limits_.max_block_threads || grid_x == 0 || grid_y == 0 ||
      grid_z == 0 || grid_y > 65535 || grid_z > 65535 || grid_x > 0x7FFF'FFFF ||
      shared_bytes > limits_.max_shared_bytes)
    return cu::invalid_value;
  auto marshalled = marshal_params(found->second.layout, memory, params, space_);
  if (auto* error = std::get_if<MarshalError>(&marshalled)) {
    refuse(fmt::format("cuLaunchKernel: {}", error->why));
    return cu::invalid_value;
  }
  Marshalled& values = std::get<Marshalled>(marshalled);
  return driver_.api().cuLaunchKernel(found->second.driver, grid_x, grid_y, grid_z, block_x,
                                      block_y, block_z, shared_bytes, nullptr,
                                      values.pointers.data(), nullptr);
}

CuResult GuestCuda::cuGetErrorName(View memory, std::uint32_t error, std::uint32_t name) {
  (void)error;
  memory.store(name, std::uint32_t{0});
  return cu::invalid_value;
}

} // namespace ofwatchdog::gpu
