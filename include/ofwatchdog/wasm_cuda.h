/* The CUDA driver functions a WASI guest of mode=wasm may call (docs/wasm-gpu.md), declared for
 * wasm32 as the watchdog provides them: imports from module "env", every parameter and the
 * result a 32-bit value. A guest built against NVIDIA's cuda.h with -Wl,--allow-undefined
 * imports the same functions; this header spares a guest the toolkit.
 *
 *   clang --target=wasm32-wasi -O2 -I<prefix>/include -o guest.wasm guest.c
 *
 * A CUdeviceptr is the guest's own 32-bit device address: arithmetic inside an allocation
 * works; the watchdog checks every address against the guest's allocations. */
#ifndef OFWATCHDOG_WASM_CUDA_H
#define OFWATCHDOG_WASM_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int CUresult;
typedef int CUdevice;
typedef unsigned int CUdeviceptr;
typedef struct CUctx_st* CUcontext;
typedef struct CUmod_st* CUmodule;
typedef struct CUfunc_st* CUfunction;
typedef struct CUstream_st* CUstream;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_STUB_LIBRARY = 34,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_FILE_NOT_FOUND = 301,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500
};

#define OFW_CUDA_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

CUresult cuInit(unsigned int flags) OFW_CUDA_IMPORT(cuInit);
CUresult cuDeviceGetCount(int* count) OFW_CUDA_IMPORT(cuDeviceGetCount);
CUresult cuDeviceGet(CUdevice* device, int ordinal) OFW_CUDA_IMPORT(cuDeviceGet);
CUresult cuDeviceGetName(char* name, int length, CUdevice device) OFW_CUDA_IMPORT(cuDeviceGetName);
CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device)
    OFW_CUDA_IMPORT(cuDeviceGetAttribute);
CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) OFW_CUDA_IMPORT(cuDeviceTotalMem_v2);
CUresult cuCtxCreate_v2(CUcontext* context, unsigned int flags, CUdevice device)
    OFW_CUDA_IMPORT(cuCtxCreate_v2);
CUresult cuCtxDestroy_v2(CUcontext context) OFW_CUDA_IMPORT(cuCtxDestroy_v2);
CUresult cuCtxSynchronize(void) OFW_CUDA_IMPORT(cuCtxSynchronize);
CUresult cuMemGetInfo_v2(size_t* free, size_t* total) OFW_CUDA_IMPORT(cuMemGetInfo_v2);
CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) OFW_CUDA_IMPORT(cuMemAlloc_v2);
CUresult cuMemFree_v2(CUdeviceptr pointer) OFW_CUDA_IMPORT(cuMemFree_v2);
CUresult cuMemcpyHtoD_v2(CUdeviceptr to, const void* from, size_t bytes)
    OFW_CUDA_IMPORT(cuMemcpyHtoD_v2);
CUresult cuMemcpyDtoH_v2(void* to, CUdeviceptr from, size_t bytes) OFW_CUDA_IMPORT(cuMemcpyDtoH_v2);
CUresult cuMemcpyDtoD_v2(CUdeviceptr to, CUdeviceptr from, size_t bytes)
    OFW_CUDA_IMPORT(cuMemcpyDtoD_v2);
CUresult cuMemsetD8_v2(CUdeviceptr to, unsigned char value, size_t count)
    OFW_CUDA_IMPORT(cuMemsetD8_v2);
CUresult cuMemsetD16_v2(CUdeviceptr to, unsigned short value, size_t count)
    OFW_CUDA_IMPORT(cuMemsetD16_v2);
CUresult cuMemsetD32_v2(CUdeviceptr to, unsigned int value, size_t count)
    OFW_CUDA_IMPORT(cuMemsetD32_v2);
CUresult cuModuleLoad(CUmodule* module, const char* path) OFW_CUDA_IMPORT(cuModuleLoad);
CUresult cuModuleLoadData(CUmodule* module, const void* image) OFW_CUDA_IMPORT(cuModuleLoadData);
CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name)
    OFW_CUDA_IMPORT(cuModuleGetFunction);
CUresult cuModuleUnload(CUmodule module) OFW_CUDA_IMPORT(cuModuleUnload);
CUresult cuLaunchKernel(CUfunction function, unsigned int grid_x, unsigned int grid_y,
                        unsigned int grid_z, unsigned int block_x, unsigned int block_y,
                        unsigned int block_z, unsigned int shared_bytes, CUstream stream,
                        void** parameters, void** extra) OFW_CUDA_IMPORT(cuLaunchKernel);
CUresult cuGetErrorName(CUresult error, const char** name) OFW_CUDA_IMPORT(cuGetErrorName);

#undef OFW_CUDA_IMPORT

#ifdef __cplusplus
}
#endif

#endif
