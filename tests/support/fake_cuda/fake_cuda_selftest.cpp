// Self-test of the CUDA driver double (fake_cuda.cpp). It dlopens the library by path and binds
// the driver's versioned names with dlsym, as the watchdog will with the real libcuda.so.1, so a
// missing or misnamed export fails here first.
//
//   fake_cuda_selftest <path to libcuda.so.1> default|two-devices|no-device|stub|misconfigured
//
// The mode names what the environment (set by meson.build) makes of the library, since the double
// reads its environment once, at its first call.

#include "fake_cuda.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <source_location>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <dlfcn.h>

namespace {

// The library's entry points, bound by name. Qualified decltypes: the members reuse the names.
struct Api {
  decltype(&::cuInit) cuInit;
  decltype(&::cuDriverGetVersion) cuDriverGetVersion;
  decltype(&::cuDeviceGetCount) cuDeviceGetCount;
  decltype(&::cuDeviceGet) cuDeviceGet;
  decltype(&::cuDeviceGetName) cuDeviceGetName;
  decltype(&::cuDeviceGetAttribute) cuDeviceGetAttribute;
  decltype(&::cuDeviceTotalMem_v2) cuDeviceTotalMem_v2;
  decltype(&::cuDevicePrimaryCtxRetain) cuDevicePrimaryCtxRetain;
  decltype(&::cuDevicePrimaryCtxRelease_v2) cuDevicePrimaryCtxRelease_v2;
  decltype(&::cuCtxSetCurrent) cuCtxSetCurrent;
  decltype(&::cuCtxGetCurrent) cuCtxGetCurrent;
  decltype(&::cuCtxSynchronize) cuCtxSynchronize;
  decltype(&::cuMemGetInfo_v2) cuMemGetInfo_v2;
  decltype(&::cuMemAlloc_v2) cuMemAlloc_v2;
  decltype(&::cuMemFree_v2) cuMemFree_v2;
  decltype(&::cuMemcpyHtoD_v2) cuMemcpyHtoD_v2;
  decltype(&::cuMemcpyDtoH_v2) cuMemcpyDtoH_v2;
  decltype(&::cuMemcpyDtoD_v2) cuMemcpyDtoD_v2;
  decltype(&::cuMemsetD8_v2) cuMemsetD8_v2;
  decltype(&::cuMemsetD16_v2) cuMemsetD16_v2;
  decltype(&::cuMemsetD32_v2) cuMemsetD32_v2;
  decltype(&::cuModuleLoadData) cuModuleLoadData;
  decltype(&::cuModuleUnload) cuModuleUnload;
  decltype(&::cuModuleGetFunction) cuModuleGetFunction;
  decltype(&::cuFuncGetParamInfo) cuFuncGetParamInfo;
  decltype(&::cuLaunchKernel) cuLaunchKernel;
  decltype(&::cuGetErrorName) cuGetErrorName;
  decltype(&::cuGetErrorString) cuGetErrorString;
  decltype(&::fake_cuda_live_allocations) fake_cuda_live_allocations;
  decltype(&::fake_cuda_live_bytes) fake_cuda_live_bytes;
};

Api cu;
std::atomic<int> g_checks{0};
std::atomic<int> g_failures{0};

void check(bool ok, std::string_view what,
           std::source_location where = std::source_location::current()) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::fprintf(stderr, "FAIL %s:%u: %.*s\n", where.file_name(), where.line(),
                 static_cast<int>(what.size()), what.data());
  }
}

void check_rc(CUresult got, CUresult want, std::string_view what,
              std::source_location where = std::source_location::current()) {
  ++g_checks;
  if (got != want) {
    ++g_failures;
    std::fprintf(stderr, "FAIL %s:%u: %.*s: got %d, want %d\n", where.file_name(), where.line(),
                 static_cast<int>(what.size()), what.data(), got, want);
  }
}

template <class Fn> void bind(void* library, Fn& slot, const char* name) {
  void* symbol = dlsym(library, name);
  if (symbol == nullptr) {
    std::fprintf(stderr, "FAIL: the library does not export %s\n", name);
    std::exit(1);
  }
  slot = reinterpret_cast<Fn>(symbol);
}

void bind_all(void* library) {
  bind(library, cu.cuInit, "cuInit");
  bind(library, cu.cuDriverGetVersion, "cuDriverGetVersion");
  bind(library, cu.cuDeviceGetCount, "cuDeviceGetCount");
  bind(library, cu.cuDeviceGet, "cuDeviceGet");
  bind(library, cu.cuDeviceGetName, "cuDeviceGetName");
  bind(library, cu.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  bind(library, cu.cuDeviceTotalMem_v2, "cuDeviceTotalMem_v2");
  bind(library, cu.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(library, cu.cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease_v2");
  bind(library, cu.cuCtxSetCurrent, "cuCtxSetCurrent");
  bind(library, cu.cuCtxGetCurrent, "cuCtxGetCurrent");
  bind(library, cu.cuCtxSynchronize, "cuCtxSynchronize");
  bind(library, cu.cuMemGetInfo_v2, "cuMemGetInfo_v2");
  bind(library, cu.cuMemAlloc_v2, "cuMemAlloc_v2");
  bind(library, cu.cuMemFree_v2, "cuMemFree_v2");
  bind(library, cu.cuMemcpyHtoD_v2, "cuMemcpyHtoD_v2");
  bind(library, cu.cuMemcpyDtoH_v2, "cuMemcpyDtoH_v2");
  bind(library, cu.cuMemcpyDtoD_v2, "cuMemcpyDtoD_v2");
  bind(library, cu.cuMemsetD8_v2, "cuMemsetD8_v2");
  bind(library, cu.cuMemsetD16_v2, "cuMemsetD16_v2");
  bind(library, cu.cuMemsetD32_v2, "cuMemsetD32_v2");
  bind(library, cu.cuModuleLoadData, "cuModuleLoadData");
  bind(library, cu.cuModuleUnload, "cuModuleUnload");
  bind(library, cu.cuModuleGetFunction, "cuModuleGetFunction");
  bind(library, cu.cuFuncGetParamInfo, "cuFuncGetParamInfo");
  bind(library, cu.cuLaunchKernel, "cuLaunchKernel");
  bind(library, cu.cuGetErrorName, "cuGetErrorName");
  bind(library, cu.cuGetErrorString, "cuGetErrorString");
  bind(library, cu.fake_cuda_live_allocations, "fake_cuda_live_allocations");
  bind(library, cu.fake_cuda_live_bytes, "fake_cuda_live_bytes");
}

constexpr size_t kDefaultMemory = size_t{256} << 20;

// PTX much as nvcc writes it, with the corners the double's reader must get past: comments, a
// string holding "//", a .func, a commented-out entry, pointer attributes, a byte-array parameter.
constexpr const char* kPtx = R"(//
// Written by hand for the fake CUDA self-test
//
.version 8.4
.target sm_80
.address_size 64

.file 1 "//build/not-a-comment.cu"

.func (.param .b32 ret) helper(.param .b32 x) { ret; }

	// .globl	vector_add
.visible .entry vector_add(
	.param .u64 vector_add_param_0,
	.param .u64 .ptr .global .align 4 vector_add_param_1,
	.param .u64 vector_add_param_2,
	.param .u32 vector_add_param_3
)
{
	.reg .b32 %r<5>;
	.param .b64 inner;
	ret;
}
.visible .entry matrix_mul(.param .u64 A, .param .u64 B, .param .u64 C, .param .s32 n)
{ { ret; } }
.visible .entry fill_u32(.param .u64 out, .param .u32 value, .param .u32 n) { ret; }
/* .visible .entry commented_out(.param .u8 x) { ret; } */
.visible .entry with_struct(.param .u32 a, .param .align 8 .b8 s[24], .param .u16 h) { ret; }
.visible .entry no_params { ret; }
.visible .entry mystery(.param .u64 p) { ret; }
)";

// A known name whose parameters are not the ones the double implements.
constexpr const char* kOddPtx = ".version 8.4\n.target sm_80\n"
                                ".entry vector_add(.param .u64 a, .param .u64 b) { ret; }\n";

CUmodule load(const char* ptx) {
  CUmodule module = nullptr;
  check_rc(cu.cuModuleLoadData(&module, ptx), CUDA_SUCCESS, "cuModuleLoadData");
  return module;
}

CUfunction function(CUmodule module, const char* name) {
  CUfunction f = nullptr;
  check_rc(cu.cuModuleGetFunction(&f, module, name), CUDA_SUCCESS, name);
  return f;
}

CUdeviceptr alloc(size_t bytes) {
  CUdeviceptr ptr = 0;
  check_rc(cu.cuMemAlloc_v2(&ptr, bytes), CUDA_SUCCESS, "cuMemAlloc_v2");
  return ptr;
}

template <class T> std::vector<T> download(CUdeviceptr ptr, size_t count) {
  std::vector<T> out(count);
  check_rc(cu.cuMemcpyDtoH_v2(out.data(), ptr, count * sizeof(T)), CUDA_SUCCESS, "download");
  return out;
}

template <class T> void upload(CUdeviceptr ptr, const std::vector<T>& values) {
  check_rc(cu.cuMemcpyHtoD_v2(ptr, values.data(), values.size() * sizeof(T)), CUDA_SUCCESS,
           "upload");
}

CUresult launch_1d(CUfunction f, unsigned grid, unsigned block, void** params) {
  return cu.cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, nullptr, params, nullptr);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string state_text(unsigned long long allocations, unsigned long long bytes) {
  return "live_allocations " + std::to_string(allocations) + "\nlive_bytes " +
         std::to_string(bytes) + "\n";
}

// ---- default mode ----

void test_before_init() {
  int version = 0;
  check_rc(cu.cuDriverGetVersion(&version), CUDA_SUCCESS, "version before cuInit");
  check(version >= 12040, "a driver version with cuFuncGetParamInfo");
  const char* name = nullptr;
  check_rc(cu.cuGetErrorName(CUDA_SUCCESS, &name), CUDA_SUCCESS, "error name before cuInit");
  int count = 0;
  check_rc(cu.cuDeviceGetCount(&count), CUDA_ERROR_NOT_INITIALIZED, "count before cuInit");
  CUdeviceptr ptr = 0;
  check_rc(cu.cuMemAlloc_v2(&ptr, 16), CUDA_ERROR_NOT_INITIALIZED, "alloc before cuInit");
  check_rc(cu.cuCtxSetCurrent(nullptr), CUDA_ERROR_NOT_INITIALIZED, "set current before cuInit");
  check_rc(cu.cuCtxSynchronize(), CUDA_ERROR_NOT_INITIALIZED, "sync before cuInit");
  check_rc(cu.cuInit(1), CUDA_ERROR_INVALID_VALUE, "cuInit with flags");
  check_rc(cu.cuInit(0), CUDA_SUCCESS, "cuInit");
  check_rc(cu.cuInit(0), CUDA_SUCCESS, "cuInit again");
}

void test_devices(int expected_count, size_t memory) {
  int count = 0;
  check_rc(cu.cuDeviceGetCount(&count), CUDA_SUCCESS, "cuDeviceGetCount");
  check(count == expected_count, "device count");
  CUdevice device = -1;
  check_rc(cu.cuDeviceGet(&device, 0), CUDA_SUCCESS, "cuDeviceGet 0");
  check(device == 0, "device 0");
  check_rc(cu.cuDeviceGet(&device, count), CUDA_ERROR_INVALID_DEVICE, "device past the count");
  check_rc(cu.cuDeviceGet(&device, -1), CUDA_ERROR_INVALID_DEVICE, "negative device");
  char name[8] = {};
  check_rc(cu.cuDeviceGetName(name, sizeof name, 0), CUDA_SUCCESS, "cuDeviceGetName");
  check(std::strlen(name) == sizeof name - 1, "a long name is truncated to fit");
  check_rc(cu.cuDeviceGetName(name, 0, 0), CUDA_ERROR_INVALID_VALUE, "name length 0");
  int value = 0;
  check_rc(cu.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 0),
           CUDA_SUCCESS, "max threads per block");
  check(value == 1024, "1024 threads per block");
  check_rc(cu.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0),
           CUDA_SUCCESS, "compute capability");
  check(value >= 7, "a current compute capability");
  check_rc(cu.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, count),
           CUDA_ERROR_INVALID_DEVICE, "attribute of a missing device");
  check_rc(cu.cuDeviceGetAttribute(&value, 100000, 0), CUDA_ERROR_INVALID_VALUE,
           "unknown attribute");
  size_t total = 0;
  check_rc(cu.cuDeviceTotalMem_v2(&total, 0), CUDA_SUCCESS, "cuDeviceTotalMem_v2");
  check(total == memory, "total memory");
}

CUcontext test_contexts() {
  CUdeviceptr ptr = 0;
  check_rc(cu.cuMemAlloc_v2(&ptr, 16), CUDA_ERROR_INVALID_CONTEXT, "alloc without a context");
  check_rc(cu.cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT, "sync without a context");
  CUcontext context = nullptr;
  check_rc(cu.cuDevicePrimaryCtxRetain(&context, 0), CUDA_SUCCESS, "retain");
  CUcontext again = nullptr;
  check_rc(cu.cuDevicePrimaryCtxRetain(&again, 0), CUDA_SUCCESS, "retain again");
  check(again == context, "one primary context per device");
  check_rc(cu.cuDevicePrimaryCtxRelease_v2(0), CUDA_SUCCESS, "release one of two");
  check_rc(cu.cuCtxSetCurrent(reinterpret_cast<CUcontext>(&ptr)), CUDA_ERROR_INVALID_CONTEXT,
           "set a bogus context");
  check_rc(cu.cuCtxSetCurrent(context), CUDA_SUCCESS, "cuCtxSetCurrent");
  CUcontext current = nullptr;
  check_rc(cu.cuCtxGetCurrent(&current), CUDA_SUCCESS, "cuCtxGetCurrent");
  check(current == context, "the current context");
  check_rc(cu.cuCtxSynchronize(), CUDA_SUCCESS, "cuCtxSynchronize");
  return context;
}

void test_allocation_limits() {
  CUdeviceptr ptr = 0;
  check_rc(cu.cuMemAlloc_v2(nullptr, 16), CUDA_ERROR_INVALID_VALUE, "alloc to null");
  check_rc(cu.cuMemAlloc_v2(&ptr, 0), CUDA_ERROR_INVALID_VALUE, "alloc of 0 bytes");
  check_rc(cu.cuMemAlloc_v2(&ptr, kDefaultMemory + 1), CUDA_ERROR_OUT_OF_MEMORY,
           "alloc past the total");
  CUdeviceptr held = alloc(1 << 20);
  size_t free = 0;
  size_t total = 0;
  check_rc(cu.cuMemGetInfo_v2(&free, &total), CUDA_SUCCESS, "cuMemGetInfo_v2");
  check(total == kDefaultMemory && free == total - (1 << 20), "free and total");
  check_rc(cu.cuMemAlloc_v2(&ptr, free + 1), CUDA_ERROR_OUT_OF_MEMORY, "alloc past the free");
  check_rc(cu.cuMemFree_v2(held), CUDA_SUCCESS, "free");
}

void test_copies() {
  CUdeviceptr p = alloc(1000);
  CUdeviceptr q = alloc(1000);
  check(p % 256 == 0 && q % 256 == 0 && p != q, "aligned, distinct device pointers");
  check(download<unsigned char>(p, 1000) == std::vector<unsigned char>(1000, 0xA5),
        "new memory is not cleared, but patterned");
  std::vector<unsigned char> pattern(1000);
  for (size_t i = 0; i < pattern.size(); ++i) {
    pattern[i] = static_cast<unsigned char>(i * 7);
  }
  upload(p, pattern);
  check(download<unsigned char>(p, 1000) == pattern, "HtoD then DtoH");
  check_rc(cu.cuMemcpyDtoD_v2(q, p, 1000), CUDA_SUCCESS, "DtoD");
  check(download<unsigned char>(q, 1000) == pattern, "DtoD copies");
  unsigned char byte = 0;
  check_rc(cu.cuMemcpyHtoD_v2(p + 999, pattern.data(), 2), CUDA_ERROR_INVALID_VALUE,
           "HtoD past the end");
  check_rc(cu.cuMemcpyHtoD_v2(p - 1, pattern.data(), 1), CUDA_ERROR_INVALID_VALUE,
           "HtoD before the start");
  check_rc(cu.cuMemcpyDtoH_v2(&byte, p + 1000, 1), CUDA_ERROR_INVALID_VALUE, "DtoH past the end");
  check_rc(cu.cuMemcpyDtoH_v2(&byte, p + 1000, 0), CUDA_SUCCESS, "DtoH of 0 bytes");
  check_rc(cu.cuMemcpyDtoH_v2(&byte, 0, 1), CUDA_ERROR_INVALID_VALUE, "DtoH from 0");
  check_rc(cu.cuMemcpyDtoH_v2(nullptr, p, 1), CUDA_ERROR_INVALID_VALUE, "DtoH to null");
  check_rc(cu.cuMemcpyDtoD_v2(q + 500, p, 600), CUDA_ERROR_INVALID_VALUE, "DtoD past the end");
  check_rc(cu.cuMemFree_v2(q), CUDA_SUCCESS, "free q");
  check_rc(cu.cuMemcpyDtoH_v2(&byte, q, 1), CUDA_ERROR_INVALID_VALUE, "DtoH from freed memory");
  check_rc(cu.cuMemFree_v2(p), CUDA_SUCCESS, "free p");
}

void test_memsets() {
  CUdeviceptr p = alloc(1000);
  check_rc(cu.cuMemsetD8_v2(p, 0x11, 1000), CUDA_SUCCESS, "D8");
  check(download<unsigned char>(p, 1000) == std::vector<unsigned char>(1000, 0x11), "D8 fills");
  check_rc(cu.cuMemsetD16_v2(p + 2, 0x2233, 10), CUDA_SUCCESS, "D16");
  std::vector<uint16_t> halves = download<uint16_t>(p, 12);
  check(halves[0] == 0x1111 && halves[1] == 0x2233 && halves[10] == 0x2233 && halves[11] == 0x1111,
        "D16 fills its range only");
  check_rc(cu.cuMemsetD16_v2(p + 1, 0, 1), CUDA_ERROR_INVALID_VALUE, "D16 misaligned");
  check_rc(cu.cuMemsetD32_v2(p + 4, 0xdeadbeef, 249), CUDA_SUCCESS, "D32 to the end");
  check(download<uint32_t>(p, 250)[249] == 0xdeadbeef, "D32 fills");
  check_rc(cu.cuMemsetD32_v2(p + 4, 0, 250), CUDA_ERROR_INVALID_VALUE, "D32 past the end");
  check_rc(cu.cuMemsetD32_v2(p + 2, 0, 1), CUDA_ERROR_INVALID_VALUE, "D32 misaligned");
  check_rc(cu.cuMemsetD8_v2(p + 1000, 0, 1), CUDA_ERROR_INVALID_VALUE, "D8 past the end");
  check_rc(cu.cuMemFree_v2(p), CUDA_SUCCESS, "free");
}

void test_frees() {
  CUdeviceptr p = alloc(64);
  check_rc(cu.cuMemFree_v2(p + 8), CUDA_ERROR_INVALID_VALUE, "free inside an allocation");
  check_rc(cu.cuMemFree_v2(0), CUDA_ERROR_INVALID_VALUE, "free of 0");
  check_rc(cu.cuMemFree_v2(p), CUDA_SUCCESS, "free");
  check_rc(cu.cuMemFree_v2(p), CUDA_ERROR_INVALID_VALUE, "double free");
  CUdeviceptr q = alloc(64);
  check(q != p, "addresses are not reused");
  check_rc(cu.cuMemFree_v2(q), CUDA_SUCCESS, "free");
}

void test_bad_images() {
  CUmodule module = nullptr;
  check_rc(cu.cuModuleLoadData(&module, nullptr), CUDA_ERROR_INVALID_VALUE, "null image");
  check_rc(cu.cuModuleLoadData(nullptr, kPtx), CUDA_ERROR_INVALID_VALUE, "null module");
  const char* not_ptx[] = {
      "",
      "hello, world",
      ".version 8.4\n.target sm_80\n// .entry k() {}\n",
      ".target sm_80\n.version 8.4\n.entry k() { ret; }\n",
      ".version 8.4\n.entry k(.param .u128 x) { ret; }\n",
      ".version 8.4\n.entry k(.param .u32 x { ret; }\n",
      ".version 8.4\n.entry (.param .u32 x) { ret; }\n",
      ".version 8.4\n.entry k() { ret; }\n.entry k() { ret; }\n",
  };
  for (const char* text : not_ptx) {
    check_rc(cu.cuModuleLoadData(&module, text), CUDA_ERROR_INVALID_PTX, text);
  }
  check_rc(cu.cuModuleLoadData(&module, "\x7f"
                                        "ELF\x02\x01\x01"),
           CUDA_ERROR_INVALID_IMAGE, "an ELF image");
}

void check_param(CUfunction f, size_t index, size_t offset, size_t size,
                 std::source_location where = std::source_location::current()) {
  size_t got_offset = 0;
  size_t got_size = 0;
  check_rc(cu.cuFuncGetParamInfo(f, index, &got_offset, &got_size), CUDA_SUCCESS,
           "cuFuncGetParamInfo", where);
  check(got_offset == offset && got_size == size, "parameter offset and size", where);
}

void test_param_info(CUmodule module) {
  CUfunction vector_add = function(module, "vector_add");
  check_param(vector_add, 0, 0, 8);
  check_param(vector_add, 1, 8, 8);
  check_param(vector_add, 2, 16, 8);
  check_param(vector_add, 3, 24, 4);
  CUfunction fill = function(module, "fill_u32");
  check_param(fill, 1, 8, 4);
  check_param(fill, 2, 12, 4);
  CUfunction with_struct = function(module, "with_struct");
  check_param(with_struct, 0, 0, 4);
  check_param(with_struct, 1, 8, 24);
  check_param(with_struct, 2, 32, 2);
  size_t offset = 0;
  check_rc(cu.cuFuncGetParamInfo(vector_add, 4, &offset, nullptr), CUDA_ERROR_INVALID_VALUE,
           "parameter past the last");
  check_rc(cu.cuFuncGetParamInfo(function(module, "no_params"), 0, &offset, nullptr),
           CUDA_ERROR_INVALID_VALUE, "parameter of a kernel without any");
  check_rc(cu.cuFuncGetParamInfo(vector_add, 0, nullptr, nullptr), CUDA_ERROR_INVALID_VALUE,
           "null offset");
  CUfunction missing = nullptr;
  for (const char* name : {"commented_out", "helper", "vector"}) {
    check_rc(cu.cuModuleGetFunction(&missing, module, name), CUDA_ERROR_NOT_FOUND, name);
  }
}

void test_vector_add(CUmodule module) {
  constexpr int n = 1000;
  std::vector<float> a(n);
  std::vector<float> b(n);
  for (int i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i) * 0.5f;
    b[i] = static_cast<float>(n - i);
  }
  CUdeviceptr da = alloc(n * sizeof(float));
  CUdeviceptr db = alloc(n * sizeof(float));
  CUdeviceptr dc = alloc(n * sizeof(float));
  upload(da, a);
  upload(db, b);
  int count = n;
  void* params[] = {&da, &db, &dc, &count};
  // Extra blocks in y repeat the same writes, as on a GPU.
  check_rc(cu.cuLaunchKernel(function(module, "vector_add"), (n + 255) / 256, 2, 1, 256, 1, 1, 0,
                             nullptr, params, nullptr),
           CUDA_SUCCESS, "launch vector_add");
  check_rc(cu.cuCtxSynchronize(), CUDA_SUCCESS, "sync");
  std::vector<float> c = download<float>(dc, n);
  bool same = true;
  for (int i = 0; i < n; ++i) {
    same = same && c[i] == a[i] + b[i];
  }
  check(same, "vector_add's sums");
  for (CUdeviceptr ptr : {da, db, dc}) {
    check_rc(cu.cuMemFree_v2(ptr), CUDA_SUCCESS, "free");
  }
}

std::vector<float> multiply(const std::vector<float>& a, const std::vector<float>& b, int n) {
  std::vector<float> c(static_cast<size_t>(n) * n);
  for (int row = 0; row < n; ++row) {
    for (int column = 0; column < n; ++column) {
      float sum = 0;
      for (int k = 0; k < n; ++k) {
        sum += a[row * n + k] * b[k * n + column];
      }
      c[row * n + column] = sum;
    }
  }
  return c;
}

void test_matrix_mul(CUmodule module) {
  constexpr int n = 37; // not a multiple of the block: edge threads must do nothing
  std::vector<float> a(n * n);
  std::vector<float> b(n * n);
  for (int i = 0; i < n * n; ++i) {
    a[i] = static_cast<float>(i % 7) - 3.0f;
    b[i] = static_cast<float>(i % 5) * 0.25f;
  }
  CUdeviceptr da = alloc(a.size() * sizeof(float));
  CUdeviceptr db = alloc(b.size() * sizeof(float));
  CUdeviceptr dc = alloc(a.size() * sizeof(float));
  upload(da, a);
  upload(db, b);
  int size = n;
  void* params[] = {&da, &db, &dc, &size};
  unsigned grid = (n + 15) / 16;
  check_rc(cu.cuLaunchKernel(function(module, "matrix_mul"), grid, grid, 1, 16, 16, 1, 0, nullptr,
                             params, nullptr),
           CUDA_SUCCESS, "launch matrix_mul");
  check_rc(cu.cuCtxSynchronize(), CUDA_SUCCESS, "sync");
  std::vector<float> c = download<float>(dc, a.size());
  std::vector<float> want = multiply(a, b, n);
  bool close = true;
  for (size_t i = 0; i < c.size(); ++i) {
    close = close && std::fabs(c[i] - want[i]) <= 1e-4f * (1.0f + std::fabs(want[i]));
  }
  check(close, "matrix_mul's product");
  for (CUdeviceptr ptr : {da, db, dc}) {
    check_rc(cu.cuMemFree_v2(ptr), CUDA_SUCCESS, "free");
  }
}

void test_fill(CUmodule module) {
  CUdeviceptr out = alloc(301 * sizeof(uint32_t));
  unsigned value = 0x12345678;
  unsigned n = 300;
  void* params[] = {&out, &value, &n};
  check_rc(launch_1d(function(module, "fill_u32"), 2, 256, params), CUDA_SUCCESS, "launch fill");
  check_rc(cu.cuCtxSynchronize(), CUDA_SUCCESS, "sync");
  std::vector<uint32_t> got = download<uint32_t>(out, 301);
  check(got[0] == value && got[299] == value, "fill_u32 fills");
  check(got[300] == 0xA5A5A5A5u, "fill_u32 stops at n");
  check_rc(cu.cuMemFree_v2(out), CUDA_SUCCESS, "free");
}

void test_launch_errors(CUmodule module) {
  CUfunction f = function(module, "fill_u32");
  CUdeviceptr out = alloc(1024 * sizeof(uint32_t));
  unsigned value = 1;
  unsigned n = 1024;
  void* params[] = {&out, &value, &n};
  void* extra[] = {nullptr};
  auto with = [&](unsigned gx, unsigned bx, unsigned by, unsigned shared, CUstream stream,
                  void** kernel_params, void** extras) {
    return cu.cuLaunchKernel(f, gx, 1, 1, bx, by, 1, shared, stream, kernel_params, extras);
  };
  check_rc(with(1, 256, 1, 0, nullptr, params, extra), CUDA_ERROR_INVALID_VALUE, "extra");
  check_rc(with(1, 256, 1, 0, nullptr, nullptr, nullptr), CUDA_ERROR_INVALID_VALUE, "no params");
  check_rc(with(1, 32, 33, 0, nullptr, params, nullptr), CUDA_ERROR_INVALID_VALUE,
           "1056 threads per block");
  check_rc(with(1, 1025, 1, 0, nullptr, params, nullptr), CUDA_ERROR_INVALID_VALUE, "block x");
  check_rc(with(0, 256, 1, 0, nullptr, params, nullptr), CUDA_ERROR_INVALID_VALUE, "empty grid");
  check_rc(with(1, 256, 1, 48 * 1024 + 1, nullptr, params, nullptr), CUDA_ERROR_INVALID_VALUE,
           "shared memory past 48 KiB");
  check_rc(with(1, 256, 1, 48 * 1024, nullptr, params, nullptr), CUDA_SUCCESS, "48 KiB shared");
  check_rc(with(1, 256, 1, 0, reinterpret_cast<CUstream>(0x1234), params, nullptr),
           CUDA_ERROR_INVALID_HANDLE, "unknown stream");
  check_rc(with(1, 256, 1, 0, reinterpret_cast<CUstream>(1), params, nullptr), CUDA_SUCCESS,
           "the legacy stream");
  check_rc(cu.cuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, params, nullptr),
           CUDA_ERROR_INVALID_HANDLE, "null function");
  check_rc(launch_1d(function(module, "mystery"), 1, 1, params), CUDA_ERROR_NOT_FOUND,
           "a kernel the double does not implement");
  CUmodule odd = load(kOddPtx);
  check_rc(launch_1d(function(odd, "vector_add"), 1, 1, params), CUDA_ERROR_NOT_FOUND,
           "a known name with other parameters");
  check_rc(cu.cuModuleUnload(odd), CUDA_SUCCESS, "unload");
  check_rc(cu.cuCtxSynchronize(), CUDA_SUCCESS, "refused launches leave no fault");
  check_rc(cu.cuMemFree_v2(out), CUDA_SUCCESS, "free");
}

void test_unload() {
  CUmodule module = load(kPtx);
  CUfunction f = function(module, "fill_u32");
  check_rc(cu.cuModuleUnload(module), CUDA_SUCCESS, "unload");
  check_rc(cu.cuModuleUnload(module), CUDA_ERROR_INVALID_HANDLE, "unload twice");
  CUfunction g = nullptr;
  check_rc(cu.cuModuleGetFunction(&g, module, "fill_u32"), CUDA_ERROR_INVALID_HANDLE,
           "function of an unloaded module");
  void* params[] = {nullptr, nullptr, nullptr};
  check_rc(launch_1d(f, 1, 1, params), CUDA_ERROR_INVALID_HANDLE, "launch after unload");
  size_t offset = 0;
  check_rc(cu.cuFuncGetParamInfo(f, 0, &offset, nullptr), CUDA_ERROR_INVALID_VALUE,
           "param info after unload");
}

// Each worker has no context until it sets one; then all share the device without losing bytes.
void worker(CUcontext context, CUmodule module, int seed) {
  CUcontext current = context;
  check_rc(cu.cuCtxGetCurrent(&current), CUDA_SUCCESS, "get current in a new thread");
  check(current == nullptr, "a new thread has no current context");
  CUdeviceptr ptr = 0;
  check_rc(cu.cuMemAlloc_v2(&ptr, 16), CUDA_ERROR_INVALID_CONTEXT, "alloc in a new thread");
  check_rc(cu.cuCtxSetCurrent(context), CUDA_SUCCESS, "set current in a worker");
  CUfunction fill = function(module, "fill_u32");
  for (int round = 0; round < 50; ++round) {
    CUdeviceptr out = alloc(256 * sizeof(uint32_t));
    unsigned value = static_cast<unsigned>(seed * 1000 + round);
    unsigned n = 256;
    void* params[] = {&out, &value, &n};
    check_rc(launch_1d(fill, 1, 256, params), CUDA_SUCCESS, "launch in a worker");
    check(download<uint32_t>(out, 256) == std::vector<uint32_t>(256, value), "worker's fill");
    check_rc(cu.cuMemFree_v2(out), CUDA_SUCCESS, "free in a worker");
  }
}

void test_threads(CUcontext context, CUmodule module) {
  unsigned long long before = cu.fake_cuda_live_allocations();
  std::vector<std::thread> workers;
  for (int seed = 0; seed < 4; ++seed) {
    workers.emplace_back(worker, context, module, seed);
  }
  for (std::thread& thread : workers) {
    thread.join();
  }
  check(cu.fake_cuda_live_allocations() == before, "workers freed what they allocated");
}

void test_state_file(const std::filesystem::path& state) {
  check(read_file(state) == state_text(0, 0), "state file with nothing live");
  CUdeviceptr p = alloc(1000);
  CUdeviceptr q = alloc(24);
  check(read_file(state) == state_text(2, 1024), "state file after two allocations");
  check(cu.fake_cuda_live_allocations() == 2 && cu.fake_cuda_live_bytes() == 1024, "live counters");
  check_rc(cu.cuMemFree_v2(p), CUDA_SUCCESS, "free");
  check(read_file(state) == state_text(1, 24), "state file after a free");
  check_rc(cu.cuMemFree_v2(q), CUDA_SUCCESS, "free");
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(state.parent_path())) {
    files += entry.is_regular_file() ? 1 : 0;
  }
  check(files == 1, "no temporary file is left beside the state file");
}

// Resets the poisoned primary context as a host must: release it, retain it, make it current.
CUcontext recover(const std::filesystem::path& state) {
  check_rc(cu.cuDevicePrimaryCtxRelease_v2(0), CUDA_SUCCESS, "release the poisoned context");
  check(cu.fake_cuda_live_allocations() == 0, "the reset freed the context's memory");
  check(read_file(state) == state_text(0, 0), "state file after the reset");
  check_rc(cu.cuCtxSynchronize(), CUDA_ERROR_CONTEXT_IS_DESTROYED, "sync on the reset context");
  CUcontext context = nullptr;
  check_rc(cu.cuDevicePrimaryCtxRetain(&context, 0), CUDA_SUCCESS, "retain after the reset");
  check_rc(cu.cuCtxSetCurrent(context), CUDA_SUCCESS, "set current after the reset");
  check_rc(cu.cuCtxSynchronize(), CUDA_SUCCESS, "a fresh context has no fault");
  return context;
}

CUmodule test_illegal_address(CUmodule module, const std::filesystem::path& state) {
  CUdeviceptr a = alloc(16 * sizeof(float));
  CUdeviceptr b = alloc(16 * sizeof(float));
  CUdeviceptr c = alloc(16 * sizeof(float));
  int n = 17; // one element past every buffer
  void* params[] = {&a, &b, &c, &n};
  check_rc(launch_1d(function(module, "vector_add"), 1, 32, params), CUDA_SUCCESS,
           "an out-of-bounds kernel launches");
  check_rc(cu.cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS, "sync reports the fault");
  CUdeviceptr ptr = 0;
  check_rc(cu.cuMemAlloc_v2(&ptr, 16), CUDA_ERROR_ILLEGAL_ADDRESS, "the fault is sticky");
  check_rc(cu.cuMemFree_v2(a), CUDA_ERROR_ILLEGAL_ADDRESS, "even for frees");
  recover(state);
  CUfunction stale = nullptr;
  check_rc(cu.cuModuleGetFunction(&stale, module, "vector_add"), CUDA_ERROR_INVALID_HANDLE,
           "the reset unloaded the module");
  return load(kPtx);
}

CUmodule test_misaligned(CUmodule module, const std::filesystem::path& state) {
  CUdeviceptr out = alloc(64);
  CUdeviceptr skewed = out + 2;
  unsigned value = 7;
  unsigned n = 4;
  void* params[] = {&skewed, &value, &n};
  check_rc(launch_1d(function(module, "fill_u32"), 1, 4, params), CUDA_SUCCESS,
           "a misaligned kernel launches");
  check_rc(cu.cuCtxSynchronize(), CUDA_ERROR_MISALIGNED_ADDRESS, "sync reports misalignment");
  recover(state);
  return load(kPtx);
}

void test_error_names() {
  const char* text = nullptr;
  check_rc(cu.cuGetErrorName(CUDA_ERROR_INVALID_VALUE, &text), CUDA_SUCCESS, "error name");
  check(text != nullptr && std::string_view(text) == "CUDA_ERROR_INVALID_VALUE", "the name");
  check_rc(cu.cuGetErrorName(CUDA_ERROR_ILLEGAL_ADDRESS, &text), CUDA_SUCCESS, "error name");
  check(text != nullptr && std::string_view(text) == "CUDA_ERROR_ILLEGAL_ADDRESS", "the name");
  check_rc(cu.cuGetErrorString(CUDA_ERROR_OUT_OF_MEMORY, &text), CUDA_SUCCESS, "error string");
  check(text != nullptr && *text != '\0', "a description");
  check_rc(cu.cuGetErrorName(12345, &text), CUDA_ERROR_INVALID_VALUE, "unknown code");
  check(text == nullptr, "no name for an unknown code");
  text = "x";
  check_rc(cu.cuGetErrorString(-1, &text), CUDA_ERROR_INVALID_VALUE, "unknown code");
  check(text == nullptr, "no description for an unknown code");
  check_rc(cu.cuGetErrorName(CUDA_SUCCESS, nullptr), CUDA_ERROR_INVALID_VALUE, "null out");
}

void test_teardown(CUmodule module, const std::filesystem::path& state) {
  check_rc(cu.cuModuleUnload(module), CUDA_SUCCESS, "unload");
  check(cu.fake_cuda_live_allocations() == 0 && cu.fake_cuda_live_bytes() == 0, "nothing leaked");
  check(read_file(state) == state_text(0, 0), "state file at the end");
  check_rc(cu.cuDevicePrimaryCtxRelease_v2(0), CUDA_SUCCESS, "release");
  check_rc(cu.cuDevicePrimaryCtxRelease_v2(0), CUDA_ERROR_INVALID_CONTEXT, "release unretained");
  check_rc(cu.cuCtxSetCurrent(nullptr), CUDA_SUCCESS, "unset current");
  check_rc(cu.cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT, "sync with none current");
}

void run_default(const std::filesystem::path& state) {
  test_before_init();
  test_devices(1, kDefaultMemory);
  CUcontext context = test_contexts();
  test_state_file(state);
  test_allocation_limits();
  test_copies();
  test_memsets();
  test_frees();
  test_bad_images();
  CUmodule module = load(kPtx);
  test_param_info(module);
  test_vector_add(module);
  test_matrix_mul(module);
  test_fill(module);
  test_launch_errors(module);
  test_unload();
  test_threads(context, module);
  module = test_illegal_address(module, state);
  module = test_misaligned(module, state);
  test_error_names();
  test_teardown(module, state);
}

// ---- the other modes ----

// Two devices of 1 MiB each (meson.build's environment): separate contexts and separate budgets.
void run_two_devices() {
  check_rc(cu.cuInit(0), CUDA_SUCCESS, "cuInit");
  test_devices(2, 1 << 20);
  CUcontext first = nullptr;
  CUcontext second = nullptr;
  check_rc(cu.cuDevicePrimaryCtxRetain(&first, 0), CUDA_SUCCESS, "retain 0");
  check_rc(cu.cuDevicePrimaryCtxRetain(&second, 1), CUDA_SUCCESS, "retain 1");
  check(first != second, "a primary context per device");
  check_rc(cu.cuCtxSetCurrent(first), CUDA_SUCCESS, "device 0 current");
  CUdeviceptr big = alloc(768 << 10);
  CUdeviceptr ptr = 0;
  check_rc(cu.cuMemAlloc_v2(&ptr, 512 << 10), CUDA_ERROR_OUT_OF_MEMORY, "device 0 is full");
  CUmodule module = load(kPtx);
  check_rc(cu.cuCtxSetCurrent(second), CUDA_SUCCESS, "device 1 current");
  CUdeviceptr other = alloc(512 << 10);
  unsigned value = 1;
  unsigned n = 1;
  void* params[] = {&other, &value, &n};
  check_rc(launch_1d(function(module, "fill_u32"), 1, 1, params), CUDA_ERROR_INVALID_HANDLE,
           "a kernel of another context");
  check_rc(cu.cuDevicePrimaryCtxRelease_v2(0), CUDA_SUCCESS, "release device 0");
  check(cu.fake_cuda_live_allocations() == 1, "only device 0's memory went with its context");
  check_rc(cu.cuMemFree_v2(big), CUDA_ERROR_INVALID_VALUE, "device 0's memory is gone");
  check_rc(cu.cuMemFree_v2(other), CUDA_SUCCESS, "free on device 1");
  check_rc(cu.cuDevicePrimaryCtxRelease_v2(1), CUDA_SUCCESS, "release device 1");
}

void run_no_device() {
  int version = 0;
  check_rc(cu.cuDriverGetVersion(&version), CUDA_SUCCESS, "version without a device");
  check_rc(cu.cuInit(0), CUDA_ERROR_NO_DEVICE, "cuInit without a device");
  int count = -1;
  check_rc(cu.cuDeviceGetCount(&count), CUDA_ERROR_NOT_INITIALIZED, "count after a failed init");
  const char* name = nullptr;
  check_rc(cu.cuGetErrorName(CUDA_ERROR_NO_DEVICE, &name), CUDA_SUCCESS, "error name");
  check(name != nullptr && std::string_view(name) == "CUDA_ERROR_NO_DEVICE", "the name");
}

void run_stub() {
  int value = 0;
  CUcontext context = nullptr;
  CUdeviceptr ptr = 0;
  CUmodule module = nullptr;
  size_t size = 0;
  const char* name = "x";
  const CUresult results[] = {
      cu.cuInit(0),
      cu.cuDriverGetVersion(&value),
      cu.cuDeviceGetCount(&value),
      cu.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0),
      cu.cuDeviceTotalMem_v2(&size, 0),
      cu.cuDevicePrimaryCtxRetain(&context, 0),
      cu.cuCtxSetCurrent(nullptr),
      cu.cuCtxSynchronize(),
      cu.cuMemAlloc_v2(&ptr, 16),
      cu.cuMemFree_v2(ptr),
      cu.cuModuleLoadData(&module, kPtx),
      cu.cuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr),
      cu.cuGetErrorName(CUDA_SUCCESS, &name),
  };
  for (CUresult result : results) {
    check_rc(result, CUDA_ERROR_STUB_LIBRARY, "every call of the stub");
  }
  check(name == nullptr, "the stub names no error");
  check(cu.fake_cuda_live_allocations() == 0, "the stub allocates nothing");
}

void run_misconfigured() {
  check_rc(cu.cuInit(0), CUDA_ERROR_UNKNOWN, "cuInit with an unreadable FAKE_CUDA_DEVICES");
}

// The state file goes to a fresh directory so that the test can also see no temporary is left.
std::filesystem::path make_state_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/fake_cuda_selftest.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return pattern;
}

int run(std::string_view mode, const std::filesystem::path& state) {
  if (mode == "default") {
    run_default(state);
  } else if (mode == "two-devices") {
    run_two_devices();
  } else if (mode == "no-device") {
    run_no_device();
  } else if (mode == "stub") {
    run_stub();
  } else if (mode == "misconfigured") {
    run_misconfigured();
  } else {
    std::fprintf(stderr, "unknown mode %.*s\n", static_cast<int>(mode.size()), mode.data());
    return 2;
  }
  std::printf("%.*s: %d checks, %d failed\n", static_cast<int>(mode.size()), mode.data(),
              g_checks.load(), g_failures.load());
  return g_failures.load() == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <libcuda.so.1> <mode>\n", argv[0]);
    return 2;
  }
  // Set before the library's first call, which is when it reads its environment.
  std::filesystem::path dir = make_state_dir();
  std::filesystem::path state = dir / "state";
  setenv("FAKE_CUDA_STATE_FILE", state.c_str(), 1);
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  bind_all(library);
  int status = run(argv[2], state);
  std::filesystem::remove_all(dir);
  return status;
}
