// GuestCuda over the test double of the CUDA driver (tests/support/fake_cuda): what a guest's
// imports do with good and hostile arguments, and that nothing outlives the instance.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstring>
#include <vector>

#include "gpu/guest_cuda.hpp"

using namespace ofwatchdog::gpu;

namespace {

const CudaDriver& fake_driver() {
  static std::unique_ptr<CudaDriver> driver = CudaDriver::open(OFWATCHDOG_FAKE_CUDA);
  return *driver;
}

struct Guest {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(64 * 1024);
  ofwatchdog::wasi::GuestView view{ofwatchdog::wasi::GuestMemory{bytes.data(), bytes.size()}};
  std::uint32_t u32(std::uint32_t at) const {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  }
};

} // namespace

TEST_CASE("the driver double loads and is shared by guests", "[gpu]") {
  const CudaDriver& driver = fake_driver();
  INFO(driver.status_line());
  REQUIRE(driver.ready());
  CHECK(driver.status_line().find("GPU: device 0 of 1") == 0);
}

TEST_CASE("a missing driver leaves guests a device-less machine", "[gpu]") {
  auto none = CudaDriver::open("/nonexistent/libcuda.so.1");
  CHECK_FALSE(none->ready());
  CHECK(none->init_result() == cu::no_device);
  CHECK(none->status_line().find("cannot load /nonexistent/libcuda.so.1") != std::string::npos);
  GuestCuda guest(*none, {});
  Guest memory;
  CHECK(guest.cuInit(0) == cu::no_device);
  CHECK(guest.cuMemAlloc_v2(memory.view, 0, 16) == cu::not_initialized);
}

TEST_CASE("memory goes to the device and back through guest addresses", "[gpu]") {
  GuestCuda guest(fake_driver(), {});
  Guest memory;
  CHECK(guest.cuMemAlloc_v2(memory.view, 0, 16) == cu::not_initialized);
  REQUIRE(guest.cuInit(0) == cu::success);
  REQUIRE(guest.cuCtxCreate_v2(memory.view, 0, 0, 0) == cu::success);
  CHECK(memory.u32(0) == kGuestContextHandle);
  REQUIRE(guest.cuMemAlloc_v2(memory.view, 4, 1024) == cu::success);
  std::uint32_t device = memory.u32(4);
  CHECK(device >= DeviceSpace::kFirstAddress); // the guest's space, not the driver's address
  // Zero-filled, though the driver's new memory is not.
  CHECK(guest.cuMemcpyDtoH_v2(memory.view, 100, device, 1024) == cu::success);
  CHECK(std::all_of(memory.bytes.begin() + 100, memory.bytes.begin() + 1124,
                    [](std::uint8_t b) { return b == 0; }));
  for (int i = 0; i < 256; ++i)
    memory.bytes[2000 + i] = static_cast<std::uint8_t>(i);
  CHECK(guest.cuMemcpyHtoD_v2(memory.view, device + 512, 2000, 256) == cu::success);
  CHECK(guest.cuMemsetD32_v2(device, 0x01020304, 4) == cu::success);
  CHECK(guest.cuMemcpyDtoD_v2(device + 768, device + 512, 256) == cu::success);
  CHECK(guest.cuMemcpyDtoH_v2(memory.view, 4000, device, 1024) == cu::success);
  CHECK(memory.u32(4000) == 0x01020304u);
  CHECK(std::memcmp(memory.bytes.data() + 4000 + 768, memory.bytes.data() + 2000, 256) == 0);
  CHECK(guest.live_allocations() == 1);
  CHECK(guest.cuMemFree_v2(device) == cu::success);
  CHECK(guest.live_allocations() == 0);
}

TEST_CASE("hostile addresses and sizes get CUDA errors, not crashes", "[gpu]") {
  GuestCuda guest(fake_driver(), {GuestCudaLimits{4096}});
  Guest memory;
  REQUIRE(guest.cuInit(0) == cu::success);
  REQUIRE(guest.cuMemAlloc_v2(memory.view, 0, 1024) == cu::success);
  std::uint32_t device = memory.u32(0);
  auto size = static_cast<std::uint32_t>(memory.bytes.size());
  // Copies out of guest memory, or past the allocation.
  CHECK(guest.cuMemcpyHtoD_v2(memory.view, device, size - 8, 16) == cu::invalid_value);
  CHECK(guest.cuMemcpyDtoH_v2(memory.view, size - 8, device, 16) == cu::invalid_value);
  CHECK(guest.cuMemcpyHtoD_v2(memory.view, device + 1000, 0, 100) == cu::invalid_value);
  CHECK(guest.cuMemcpyDtoH_v2(memory.view, 0, device, 0xFFFF'FFFF) == cu::invalid_value);
  CHECK(guest.cuMemsetD32_v2(device + 1020, 0, 2) == cu::invalid_value);
  CHECK(guest.cuMemsetD16_v2(device + 1, 0, 2) == cu::invalid_value); // misaligned
  // Forged and freed addresses.
  CHECK(guest.cuMemcpyDtoD_v2(0x1234, device, 4) == cu::invalid_value);
  CHECK(guest.cuMemFree_v2(device + 4) == cu::invalid_value);
  // A result pointer outside guest memory allocates nothing.
  CHECK(guest.cuMemAlloc_v2(memory.view, size - 2, 16) == cu::invalid_value);
  // The cap counts every live allocation.
  CHECK(guest.cuMemAlloc_v2(memory.view, 8, 4096) == cu::out_of_memory);
  CHECK(guest.cuMemAlloc_v2(memory.view, 8, 3072) == cu::success);
  CHECK(guest.cuMemGetInfo_v2(memory.view, 16, 20) == cu::success);
  CHECK(memory.u32(16) == 0u);
  CHECK(memory.u32(20) == 4096u);
  CHECK(guest.cuMemFree_v2(device) == cu::success);
  CHECK(guest.cuMemFree_v2(device) == cu::invalid_value); // twice
  CHECK(guest.cuMemcpyDtoH_v2(memory.view, 0, device, 4) == cu::invalid_value);
  CHECK(guest.cuCtxDestroy_v2(7) == cu::invalid_context);
  CHECK(guest.cuDeviceGet(memory.view, 0, 1) == cu::invalid_device);
  CHECK(guest.live_allocations() == 1);
}

TEST_CASE("what a guest leaves allocated is freed with its instance", "[gpu]") {
  Guest memory;
  {
    GuestCuda guest(fake_driver(), {});
    REQUIRE(guest.cuInit(0) == cu::success);
    for (std::uint32_t i = 0; i < 5; ++i)
      REQUIRE(guest.cuMemAlloc_v2(memory.view, 4 * i, 4096) == cu::success);
  }
  GuestCuda next(fake_driver(), {});
  REQUIRE(next.cuInit(0) == cu::success);
  CHECK(next.cuMemGetInfo_v2(memory.view, 0, 4) == cu::success);
  std::size_t free = 0;
  std::size_t total = 0;
  REQUIRE(fake_driver().make_current());
  REQUIRE(fake_driver().api().cuMemGetInfo_v2(&free, &total) == cu::success);
  CHECK(free == total); // the driver's own count: nothing of the first guest is left
}

TEST_CASE("device queries answer within the guest's buffers", "[gpu]") {
  GuestCuda guest(fake_driver(), {GuestCudaLimits{1 << 20}});
  Guest memory;
  REQUIRE(guest.cuInit(0) == cu::success);
  CHECK(guest.cuDeviceGetCount(memory.view, 0) == cu::success);
  CHECK(memory.u32(0) == 1u);
  CHECK(guest.cuDeviceGetName(memory.view, 100, 8, 0) == cu::success);
  CHECK(std::strlen(reinterpret_cast<const char*>(memory.bytes.data() + 100)) == 7);
  CHECK(guest.cuDeviceGetName(memory.view, static_cast<std::uint32_t>(memory.bytes.size()) - 4, 8,
                              0) == cu::invalid_value);
  CHECK(guest.cuDeviceTotalMem_v2(memory.view, 200, 0) == cu::success);
  CHECK(memory.u32(200) == 1u << 20); // the guest's budget, not the device's size
}

namespace {

constexpr std::string_view kVectorAddPtx = R"(
.version 7.0
.target sm_52
.address_size 64
// c[i] = a[i] + b[i]
.visible .entry vector_add(
    .param .u64 vector_add_param_0,
    .param .u64 vector_add_param_1,
    .param .u64 vector_add_param_2,
    .param .u32 vector_add_param_3
)
{
    ret;
}
)";

// Writes `text` and a NUL at `at` in guest memory.
void put_text(Guest& memory, std::uint32_t at, std::string_view text) {
  std::memcpy(memory.bytes.data() + at, text.data(), text.size());
  memory.bytes[at + text.size()] = 0;
}

void put_u32(Guest& memory, std::uint32_t at, std::uint32_t value) {
  std::memcpy(memory.bytes.data() + at, &value, 4);
}

} // namespace

TEST_CASE("a guest loads PTX, finds a kernel and launches it with its own addresses", "[gpu]") {
  GuestCuda guest(fake_driver(), {});
  Guest memory;
  REQUIRE(guest.cuInit(0) == cu::success);
  put_text(memory, 8192, kVectorAddPtx);
  put_text(memory, 100, "vector_add");
  REQUIRE(guest.cuModuleLoadData(memory.view, 0, 8192) == cu::success);
  std::uint32_t module = memory.u32(0);
  REQUIRE(guest.cuModuleGetFunction(memory.view, 4, module, 100) == cu::success);
  std::uint32_t kernel = memory.u32(4);
  constexpr std::uint32_t n = 1000;
  for (std::uint32_t slot : {16u, 20u, 24u})
    REQUIRE(guest.cuMemAlloc_v2(memory.view, slot, n * 4) == cu::success);
  std::vector<float> a(n), b(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 0.5f * static_cast<float>(i);
  }
  std::memcpy(memory.bytes.data() + 16384, a.data(), n * 4);
  std::memcpy(memory.bytes.data() + 24576, b.data(), n * 4);
  REQUIRE(guest.cuMemcpyHtoD_v2(memory.view, memory.u32(16), 16384, n * 4) == cu::success);
  REQUIRE(guest.cuMemcpyHtoD_v2(memory.view, memory.u32(20), 24576, n * 4) == cu::success);
  // kernelParams: pointers (guest offsets) to each value; the addresses are the guest's own.
  put_u32(memory, 40, n);
  for (std::uint32_t i = 0; i < 4; ++i)
    put_u32(memory, 48 + 4 * i, i < 3 ? 16 + 4 * i : 40);
  CHECK(guest.cuLaunchKernel(memory.view, kernel, (n + 255) / 256, 1, 1, 256, 1, 1, 0, 0, 48, 0) ==
        cu::success);
  CHECK(guest.cuCtxSynchronize() == cu::success);
  REQUIRE(guest.cuMemcpyDtoH_v2(memory.view, 32768, memory.u32(24), n * 4) == cu::success);
  std::vector<float> c(n);
  std::memcpy(c.data(), memory.bytes.data() + 32768, n * 4);
  for (std::uint32_t i = 0; i < n; ++i)
    REQUIRE(c[i] == a[i] + b[i]);
  CHECK(guest.cuModuleUnload(module) == cu::success);
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 1, 1, 1, 0, 0, 48, 0) ==
        cu::invalid_handle);
}

TEST_CASE("launches with forged parameters or sizes are refused before the driver", "[gpu]") {
  std::vector<std::string> refusals;
  GuestCudaHooks hooks;
  hooks.log = [&refusals](std::string_view why) { refusals.emplace_back(why); };
  GuestCuda guest(fake_driver(), {}, hooks);
  Guest memory;
  REQUIRE(guest.cuInit(0) == cu::success);
  put_text(memory, 8192, kVectorAddPtx);
  put_text(memory, 100, "vector_add");
  REQUIRE(guest.cuModuleLoadData(memory.view, 0, 8192) == cu::success);
  REQUIRE(guest.cuModuleGetFunction(memory.view, 4, memory.u32(0), 100) == cu::success);
  std::uint32_t kernel = memory.u32(4);
  REQUIRE(guest.cuMemAlloc_v2(memory.view, 16, 64) == cu::success);
  put_u32(memory, 40, 16);
  // A forged device address in an 8-byte parameter.
  put_u32(memory, 20, 0xDEAD'0000);
  for (std::uint32_t i = 0; i < 4; ++i)
    put_u32(memory, 48 + 4 * i, i == 0 ? 16 : i < 3 ? 20 : 40);
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 16, 1, 1, 0, 0, 48, 0) ==
        cu::invalid_value);
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0] == "cuLaunchKernel: parameter 1 is 8 bytes wide and its value is not a device "
                       "address of this guest");
  // A parameter array, or a parameter, outside guest memory.
  auto size = static_cast<std::uint32_t>(memory.bytes.size());
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 16, 1, 1, 0, 0, size - 8, 0) ==
        cu::invalid_value);
  put_u32(memory, 48, size);
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 16, 1, 1, 0, 0, 48, 0) ==
        cu::invalid_value);
  // Blocks, shared memory, streams and `extra` over the bounds.
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 1025, 1, 1, 0, 0, 48, 0) ==
        cu::invalid_value);
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 1, 1, 1, 1 << 20, 0, 48, 0) ==
        cu::invalid_value);
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 1, 1, 1, 0, 7, 48, 0) ==
        cu::invalid_value);
  CHECK(guest.cuLaunchKernel(memory.view, kernel, 1, 1, 1, 1, 1, 1, 0, 0, 48, 64) ==
        cu::invalid_value);
  CHECK(guest.cuLaunchKernel(memory.view, 999, 1, 1, 1, 1, 1, 1, 0, 0, 48, 0) ==
        cu::invalid_handle);
  // PTX without a NUL inside guest memory, and a module handle never given.
  std::memset(memory.bytes.data() + size - 16, 'x', 16);
  CHECK(guest.cuModuleLoadData(memory.view, 0, size - 16) == cu::invalid_value);
  CHECK(guest.cuModuleGetFunction(memory.view, 4, 77, 100) == cu::invalid_handle);
  CHECK(guest.cuModuleUnload(77) == cu::invalid_handle);
  CHECK(guest.cuGetErrorName(memory.view, 1, 0) == cu::invalid_value);
  CHECK(memory.u32(0) == 0u);
}

TEST_CASE("cuModuleLoad reads through the instance's sandbox", "[gpu]") {
  GuestCudaHooks hooks;
  std::string asked;
  hooks.read_file = [&asked](std::string_view path,
                             std::uint64_t) -> std::variant<std::string, CuResult> {
    asked = path;
    if (path == "kernel.ptx")
      return std::string(kVectorAddPtx);
    return cu::file_not_found;
  };
  GuestCuda guest(fake_driver(), {}, hooks);
  Guest memory;
  REQUIRE(guest.cuInit(0) == cu::success);
  put_text(memory, 100, "kernel.ptx");
  CHECK(guest.cuModuleLoad(memory.view, 0, 100) == cu::success);
  CHECK(guest.live_modules() == 1);
  put_text(memory, 100, "../../etc/passwd");
  CHECK(guest.cuModuleLoad(memory.view, 0, 100) == cu::file_not_found);
  CHECK(asked == "../../etc/passwd");
}

TEST_CASE("PTX parameter lists give offsets and sizes as the driver lays them out", "[gpu]") {
  auto layout = ptx_entry_params(R"(
.version 7.0
.entry other(.param .u32 x) { ret; }
/* .entry fake(.param .u8 nope) */
.visible .entry mixed(
  .param .u32 n,            // 0, 4
  .param .u64 .ptr .global .align 8 p,  // 8, 8
  .param .align 16 .b8 s[24],           // 16, 24
  .param .f32 f,            // 40, 4
  .param .u16 h             // 44, 2
) { ret; }
)",
                                 "mixed");
  REQUIRE(layout);
  std::vector<std::pair<std::size_t, std::size_t>> got;
  for (const ParamSlot& slot : *layout)
    got.emplace_back(slot.offset, slot.size);
  CHECK(got == std::vector<std::pair<std::size_t, std::size_t>>{
                   {0, 4}, {8, 8}, {16, 24}, {40, 4}, {44, 2}});
  CHECK(ptx_entry_params(".entry none() { ret; }", "none")->empty());
  CHECK_FALSE(ptx_entry_params(".entry other(.param .u32 x)", "missing"));
  CHECK_FALSE(ptx_entry_params(".entry bad(.param .q99 x)", "bad"));
}

TEST_CASE("a wait for the device goes in slices that a finished request ends", "[gpu]") {
  REQUIRE(fake_driver().api().cuStreamQuery != nullptr);
  // The double's control, from the library the driver already loaded.
  void* library = dlopen(OFWATCHDOG_FAKE_CUDA, RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(library != nullptr);
  auto busy = reinterpret_cast<void (*)(unsigned)>(dlsym(library, "fake_cuda_busy_queries"));
  REQUIRE(busy != nullptr);

  int looks = 0;
  bool over = false;
  GuestCudaHooks hooks;
  hooks.cancelled = [&] {
    ++looks;
    return over;
  };
  GuestCuda guest(fake_driver(), {}, hooks);
  REQUIRE(guest.cuInit(0) == cu::success);
  // The device is busy for three looks: the wait asks between them, and then succeeds.
  busy(3);
  CHECK(guest.cuCtxSynchronize() == cu::success);
  CHECK(looks == 3);
  // The request ends while the device is still busy: the wait ends at the next look.
  looks = 0;
  over = true;
  busy(1000000);
  CHECK(guest.cuCtxSynchronize() != cu::success);
  CHECK(looks == 1);
  busy(0);
  dlclose(library);
}
