#include "wasm/module_check.hpp"

#include <fmt/format.h>

#include "gpu/cuda_imports.hpp"
#include "wasm/module_reader.hpp"
#include "wasm/sha256.hpp"
#include "wasm/wasi_signatures.hpp"

namespace ofwatchdog::wasm {
namespace {

constexpr std::string_view kWasiModule = "wasi_snapshot_preview1";
// The module the fork's GPU guests import the CUDA driver functions from.
constexpr std::string_view kCudaModule = "env";

const char* kind_name(ExternalKind kind) {
  switch (kind) {
  case ExternalKind::function:
    return "a function";
  case ExternalKind::table:
    return "a table";
  case ExternalKind::memory:
    return "a memory";
  case ExternalKind::global:
    return "a global";
  case ExternalKind::tag:
    return "a tag";
  }
  return "something unknown";
}

// A GPU guest's import (docs/wasm-gpu.md): one of the list, every parameter and the result
// an i32, as the fork's guests declare them.
std::optional<std::string> check_cuda_import(const ModuleInfo& info, const Import& import) {
  const gpu::CudaImport* cuda = gpu::find_cuda_import(import.name);
  if (cuda == nullptr) {
    return fmt::format("import \"{}\".\"{}\" is not one of the CUDA driver functions a GPU "
                       "guest may import: a module may import only {} functions and those",
                       import.module, import.name, kWasiModule);
  }
  if (import.type_index >= info.types.size()) {
    return fmt::format("import {}.{} names a type the module does not define", import.module,
                       import.name);
  }
  const FuncType& declared = info.types[import.type_index];
  FuncType expected;
  expected.params.assign(cuda->params, ValueType::i32);
  expected.results.assign(1, ValueType::i32);
  if (declared.params != expected.params || declared.results != expected.results) {
    return fmt::format("import {}.{} has type {}, but a GPU guest's import must be {}",
                       import.module, import.name, describe(declared), describe(expected));
  }
  return std::nullopt;
}

std::optional<std::string> check_import(const ModuleInfo& info, const Import& import) {
  if (import.kind != ExternalKind::function) {
    return fmt::format("import \"{}\".\"{}\" is {}: a module may import only WASI functions",
                       import.module, import.name, kind_name(import.kind));
  }
  if (import.module == kCudaModule)
    return check_cuda_import(info, import);
  if (import.module != kWasiModule) {
    return fmt::format("import \"{}\".\"{}\" is not from {}: a module may import only WASI "
                       "preview1 functions (and, from env, the CUDA driver functions of GPU "
                       "guests)",
                       import.module, import.name, kWasiModule);
  }
  const WasiSignature* signature = find_wasi_function(import.name);
  if (signature == nullptr) {
    return fmt::format("import {}.{} is not a WASI preview1 function", import.module, import.name);
  }
  if (import.type_index >= info.types.size()) {
    return fmt::format("import {}.{} names a type the module does not define", import.module,
                       import.name);
  }
  const FuncType& declared = info.types[import.type_index];
  if (!matches(*signature, declared)) {
    return fmt::format("import {}.{} has type {}, but WASI preview1 declares {}", import.module,
                       import.name, describe(declared), describe(type_of(*signature)));
  }
  return std::nullopt;
}

std::optional<std::string> check_memory(const ModuleInfo& info) {
  if (info.memories.size() != 1) {
    return fmt::format("the module defines {} memories; it must define exactly one",
                       info.memories.size());
  }
  const MemoryLimits& memory = info.memories[0];
  if (memory.memory64 || memory.shared) {
    return std::string("the module's memory is 64-bit or shared; only a 32-bit unshared memory "
                       "is supported");
  }
  if (memory.min_pages > 65536 || (memory.max_pages && *memory.max_pages < memory.min_pages)) {
    return std::string("the module's memory limits are invalid");
  }
  const Export* exported = info.find_export("memory");
  if (exported == nullptr || exported->kind != ExternalKind::memory) {
    return std::string("the module does not export its memory as \"memory\"");
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> check_module(const ModuleInfo& info) {
  for (const Import& import : info.imports) {
    if (auto error = check_import(info, import)) {
      return error;
    }
  }
  if (auto error = check_memory(info)) {
    return error;
  }
  const Export* start = info.find_export("_start");
  if (start == nullptr) {
    return std::string("the module has no _start export");
  }
  if (start->kind != ExternalKind::function) {
    return fmt::format("the module's _start export is {}, not a function", kind_name(start->kind));
  }
  const FuncType* type = info.function_type(start->index);
  if (type == nullptr) {
    return std::string("the module's _start export names a function it does not have");
  }
  if (!type->params.empty() || !type->results.empty()) {
    return fmt::format("the module's _start function has type {}; it must be () -> ()",
                       describe(*type));
  }
  // Active segments are copied at instantiation; one that cannot fit the initial memory would
  // trap in every request, so it is refused here, where the message reaches whoever deploys.
  std::uint64_t initial_bytes = info.memories[0].min_pages * kWasmPageBytes;
  for (std::size_t i = 0; i < info.data_segments.size(); ++i) {
    const DataSegment& segment = info.data_segments[i];
    if (segment.active && segment.constant_offset &&
        std::uint64_t(*segment.constant_offset) + segment.size > initial_bytes) {
      return fmt::format("data segment {} ({} bytes at {}) does not fit the initial memory of {} "
                         "bytes",
                         i, segment.size, *segment.constant_offset, initial_bytes);
    }
  }
  return std::nullopt;
}

std::variant<InspectedModule, std::string> inspect_module(std::span<const std::uint8_t> bytes) {
  ReadResult read = read_module(bytes);
  if (auto* error = std::get_if<std::string>(&read)) {
    return std::move(*error);
  }
  InspectedModule module;
  module.info = std::move(std::get<ModuleInfo>(read));
  if (auto error = check_module(module.info)) {
    return std::move(*error);
  }
  for (const Import& import : module.info.imports) {
    if (import.module == kCudaModule)
      module.imports.push_back(HostImport::of(gpu::find_cuda_import(import.name)->function));
    else
      module.imports.push_back(HostImport::of(find_wasi_function(import.name)->function));
  }
  std::string error;
  std::optional<std::string> sha256 = sha256_hex(bytes, &error);
  if (!sha256)
    return fmt::format("its SHA-256 cannot be computed: {}", error);
  module.sha256 = std::move(*sha256);
  return module;
}

} // namespace ofwatchdog::wasm
