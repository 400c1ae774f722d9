// A test double of NVIDIA's CUDA driver library, built as libcuda.so.1, so that code which
// dlopens the driver (mode=wasm's GPU calls on behalf of WASI guests) can be tested on machines
// without a GPU. Device memory is host memory behind made-up 64-bit addresses; the few kernels it
// knows by PTX entry name run as C++ on the calling thread, every block and thread in turn.
//
// Environment, read once, at the first call into the library:
//   FAKE_CUDA_DEVICES       how many devices (default 1, at most 16). 0: cuInit gives
//                           CUDA_ERROR_NO_DEVICE. "stub": every function gives
//                           CUDA_ERROR_STUB_LIBRARY, as the toolkit's stub libcuda does.
//                           Anything else: cuInit gives CUDA_ERROR_UNKNOWN (and says why on
//                           stderr), so that a mistyped test setting fails loudly.
//   FAKE_CUDA_MEMORY_BYTES  each device's memory (default 256 MiB); allocations past it give
//                           CUDA_ERROR_OUT_OF_MEMORY. Not a positive number: as above.
//   FAKE_CUDA_STATE_FILE    rewritten after cuInit, every allocation and free, and every context
//                           reset, with "live_allocations <n>\nlive_bytes <m>\n", through a
//                           rename so that a reader never sees half a file.
//
// Where the real driver leaves room, or the double cannot do what the driver does:
//   - A kernel that reads or writes outside every live allocation, or at an address not aligned
//     to its access size, does not fail its cuLaunchKernel (CUDA_SUCCESS, as the real launch is
//     asynchronous). The fault (CUDA_ERROR_ILLEGAL_ADDRESS or CUDA_ERROR_MISALIGNED_ADDRESS) is
//     sticky, as on the real driver: every later call that needs that context (cuCtxSynchronize,
//     copies, allocations, frees, launches...) returns it, until the last
//     cuDevicePrimaryCtxRelease_v2 resets the context.
//   - Resetting a primary context (its last release) frees its allocations and unloads its
//     modules, as the driver does; a thread that still has it current then gets
//     CUDA_ERROR_CONTEXT_IS_DESTROYED until it is retained again.
//   - A PTX entry the double has no C++ for (or whose parameter sizes differ from the ones it
//     implements) loads, and its cuLaunchKernel returns CUDA_ERROR_NOT_FOUND at once, not sticky:
//     the limit is the double's, not a fault of the kernel.
//   - cuLaunchKernel: `extra` is not supported (CUDA_ERROR_INVALID_VALUE); a stream other than the
//     NULL, legacy or per-thread stream gives CUDA_ERROR_INVALID_HANDLE (the double creates none).
//   - Unknown or stale module and function handles, and launching a function loaded in another
//     context: CUDA_ERROR_INVALID_HANDLE, except in cuFuncGetParamInfo, whose documentation names
//     only CUDA_ERROR_INVALID_VALUE.
//   - cuModuleLoadData: an ELF or fatbin image gives CUDA_ERROR_INVALID_IMAGE (the double runs
//     PTX only); text whose first statement is not `.version`, with no `.entry`, or with an entry
//     it cannot read gives CUDA_ERROR_INVALID_PTX.
//   - cuMemsetD16_v2/D32_v2 to an address not aligned to the element give CUDA_ERROR_INVALID_VALUE.
//     Copies and memsets of zero bytes succeed without looking at the pointers.
//   - cuGetErrorName/cuGetErrorString know the codes fake_cuda.h declares; any other code gives
//     CUDA_ERROR_INVALID_VALUE and a NULL string, as the driver does for codes it does not know.

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <unistd.h>

// The library is built with hidden visibility and a version script (meson.build): only what the
// header declares is exported, so a host's dlsym() finds exactly the driver's names.
#pragma GCC visibility push(default)
#include "fake_cuda.h"
#pragma GCC visibility pop

namespace {

// 12.8: cuFuncGetParamInfo, which the double exports, first came with 12.4.
constexpr int kDriverVersion = 12080;
constexpr unsigned long long kMaxDevices = 16;
constexpr size_t kDefaultMemoryBytes = size_t{256} << 20;

// Device pointers look like the real driver's and are never host addresses, so a host that
// dereferences one does not silently read the double's memory. They are never reused either, so a
// stale pointer never lands in a later allocation, and a gap between allocations keeps an access
// just past one allocation from landing in the next.
constexpr CUdeviceptr kAddressBase = 0x7f0000000000ULL;
constexpr CUdeviceptr kAllocationAlignment = 256;
constexpr CUdeviceptr kAllocationGap = 64 * 1024;

// The driver does not clear new memory; a fixed pattern keeps runs deterministic while a host that
// promises zeroed memory to its guests must clear it itself.
constexpr unsigned char kUninitialisedByte = 0xA5;

constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr std::array<unsigned, 3> kMaxBlockDim = {1024, 1024, 64};
constexpr std::array<unsigned, 3> kMaxGridDim = {2147483647u, 65535, 65535};
constexpr unsigned kMaxSharedBytesPerBlock = 48 * 1024;

// ---- Configuration ----

enum class DeviceMode { normal, stub, misconfigured };

struct Config {
  DeviceMode mode = DeviceMode::normal;
  int device_count = 1;
  size_t memory_bytes = kDefaultMemoryBytes;
  std::string state_file;
};

std::optional<unsigned long long> parse_unsigned(const char* text) {
  if (text == nullptr || !std::isdigit(static_cast<unsigned char>(text[0]))) {
    return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') {
    return std::nullopt;
  }
  return value;
}

void read_device_count(Config& config) {
  const char* text = std::getenv("FAKE_CUDA_DEVICES");
  if (text == nullptr || *text == '\0') {
    return;
  }
  if (std::string_view(text) == "stub") {
    config.mode = DeviceMode::stub;
    return;
  }
  std::optional<unsigned long long> count = parse_unsigned(text);
  if (!count || *count > kMaxDevices) {
    std::fprintf(stderr, "fake_cuda: FAKE_CUDA_DEVICES=%s is neither \"stub\" nor 0..%llu\n", text,
                 kMaxDevices);
    config.mode = DeviceMode::misconfigured;
    return;
  }
  config.device_count = static_cast<int>(*count);
}

void read_memory_bytes(Config& config) {
  const char* text = std::getenv("FAKE_CUDA_MEMORY_BYTES");
  if (text == nullptr || *text == '\0') {
    return;
  }
  std::optional<unsigned long long> bytes = parse_unsigned(text);
  if (!bytes || *bytes == 0 || *bytes > std::numeric_limits<size_t>::max()) {
    std::fprintf(stderr, "fake_cuda: FAKE_CUDA_MEMORY_BYTES=%s is not a byte count\n", text);
    config.mode = DeviceMode::misconfigured;
    return;
  }
  config.memory_bytes = static_cast<size_t>(*bytes);
}

Config read_config() {
  Config config;
  read_device_count(config);
  read_memory_bytes(config);
  if (const char* path = std::getenv("FAKE_CUDA_STATE_FILE")) {
    config.state_file = path;
  }
  return config;
}

const Config& config() {
  static const Config instance = read_config();
  return instance;
}

bool is_stub() {
  return config().mode == DeviceMode::stub;
}

// ---- Kernel parameter layout ----

struct Param {
  size_t offset;
  size_t size;
};

} // namespace

// The opaque handle types of fake_cuda.h. A primary context is active while retained.
struct CUctx_st {
  CUdevice device = 0;
  int refcount = 0;
  // A kernel fault poisons the context until it is reset, as on the real driver.
  CUresult sticky_error = CUDA_SUCCESS;
};

struct CUfunc_st {
  std::string name;
  std::vector<Param> params;
  CUmod_st* module = nullptr;
};

struct CUmod_st {
  CUctx_st* context = nullptr;
  std::vector<std::unique_ptr<CUfunc_st>> functions;
};

namespace {

// ---- Driver state ----

struct Allocation {
  std::unique_ptr<unsigned char[]> bytes;
  size_t size = 0;
  CUctx_st* context = nullptr;
};

// The current context is per thread, as the driver's is.
thread_local CUctx_st* t_current = nullptr;

CUdeviceptr align_up(CUdeviceptr value, CUdeviceptr alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

class Driver {
public:
  std::mutex mutex;
  // cuStreamQuery's CUDA_ERROR_NOT_READY answers still to give (fake_cuda_busy_queries).
  unsigned busy_queries = 0;

  // The checks every entry point makes first: the stub and initialisation come before arguments.
  CUresult ready() const {
    if (is_stub()) {
      return CUDA_ERROR_STUB_LIBRARY;
    }
    return initialised_ ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED;
  }

  CUresult init() {
    if (CUresult status = init_status(); status != CUDA_SUCCESS) {
      return status;
    }
    if (!initialised_) {
      for (int device = 0; device < config().device_count; ++device) {
        contexts_.push_back(std::make_unique<CUctx_st>());
        contexts_.back()->device = device;
      }
      used_bytes_.assign(contexts_.size(), 0);
      initialised_ = true;
      publish();
    }
    return CUDA_SUCCESS;
  }

  // The calling thread's context, when it can run work.
  CUresult current(CUctx_st** out) const {
    if (CUresult status = ready(); status != CUDA_SUCCESS) {
      return status;
    }
    CUctx_st* context = t_current;
    if (context == nullptr) {
      return CUDA_ERROR_INVALID_CONTEXT;
    }
    if (context->refcount == 0) {
      return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    }
    if (context->sticky_error != CUDA_SUCCESS) {
      return context->sticky_error;
    }
    *out = context;
    return CUDA_SUCCESS;
  }

  int device_count() const { return static_cast<int>(contexts_.size()); }
  bool valid_device(CUdevice device) const { return device >= 0 && device < device_count(); }
  CUctx_st* primary_context(CUdevice device) const { return contexts_[device].get(); }

  bool known_context(const CUctx_st* context) const {
    for (const auto& candidate : contexts_) {
      if (candidate.get() == context) {
        return true;
      }
    }
    return false;
  }

  size_t used_bytes(CUdevice device) const { return used_bytes_[device]; }

  unsigned long long live_allocations() const { return allocations_.size(); }

  unsigned long long live_bytes() const {
    unsigned long long total = 0;
    for (size_t used : used_bytes_) {
      total += used;
    }
    return total;
  }

  // The host bytes behind [address, address + length), when one live allocation holds all of it.
  unsigned char* resolve(CUdeviceptr address, size_t length) const {
    auto it = allocations_.upper_bound(address);
    if (it == allocations_.begin()) {
      return nullptr;
    }
    --it;
    CUdeviceptr offset = address - it->first;
    const Allocation& allocation = it->second;
    if (offset > allocation.size || length > allocation.size - offset) {
      return nullptr;
    }
    return allocation.bytes.get() + offset;
  }

  CUresult allocate(CUctx_st* context, size_t size, CUdeviceptr* out) {
    size_t& used = used_bytes_[context->device];
    if (size > config().memory_bytes - used) {
      return CUDA_ERROR_OUT_OF_MEMORY;
    }
    Allocation allocation;
    allocation.bytes.reset(new (std::nothrow) unsigned char[size]);
    if (!allocation.bytes) {
      return CUDA_ERROR_OUT_OF_MEMORY;
    }
    std::memset(allocation.bytes.get(), kUninitialisedByte, size);
    allocation.size = size;
    allocation.context = context;
    CUdeviceptr address = next_address_;
    allocations_.emplace(address, std::move(allocation));
    next_address_ = align_up(address + size + kAllocationGap, kAllocationAlignment);
    used += size;
    publish();
    *out = address;
    return CUDA_SUCCESS;
  }

  CUresult release(CUdeviceptr address) {
    auto it = allocations_.find(address);
    if (it == allocations_.end()) {
      return CUDA_ERROR_INVALID_VALUE;
    }
    used_bytes_[it->second.context->device] -= it->second.size;
    allocations_.erase(it);
    publish();
    return CUDA_SUCCESS;
  }

  void add_module(std::unique_ptr<CUmod_st> module) {
    for (const auto& function : module->functions) {
      functions_.insert(function.get());
    }
    CUmod_st* key = module.get();
    modules_.emplace(key, std::move(module));
  }

  bool known_module(CUmod_st* module) const { return modules_.count(module) != 0; }
  bool known_function(CUfunc_st* function) const { return functions_.count(function) != 0; }

  void remove_module(CUmod_st* module) {
    for (const auto& function : module->functions) {
      functions_.erase(function.get());
    }
    modules_.erase(module);
  }

  // The last release of a primary context: the driver frees everything the context held.
  void reset(CUctx_st* context) {
    for (auto it = allocations_.begin(); it != allocations_.end();) {
      if (it->second.context == context) {
        used_bytes_[context->device] -= it->second.size;
        it = allocations_.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<CUmod_st*> doomed;
    for (const auto& [key, module] : modules_) {
      if (module->context == context) {
        doomed.push_back(key);
      }
    }
    for (CUmod_st* module : doomed) {
      remove_module(module);
    }
    context->sticky_error = CUDA_SUCCESS;
    publish();
  }

private:
  CUresult init_status() const {
    switch (config().mode) {
    case DeviceMode::stub:
      return CUDA_ERROR_STUB_LIBRARY;
    case DeviceMode::misconfigured:
      return CUDA_ERROR_UNKNOWN;
    case DeviceMode::normal:
      break;
    }
    return config().device_count == 0 ? CUDA_ERROR_NO_DEVICE : CUDA_SUCCESS;
  }

  // Tests read the state file from another process; the rename makes each rewrite atomic. Calls
  // are serialised by the mutex, so one temporary name per process suffices.
  void publish() const {
    const std::string& path = config().state_file;
    if (path.empty()) {
      return;
    }
    std::string temporary = path + ".tmp." + std::to_string(getpid());
    std::FILE* file = std::fopen(temporary.c_str(), "w");
    bool written = file != nullptr && std::fprintf(file, "live_allocations %llu\nlive_bytes %llu\n",
                                                   live_allocations(), live_bytes()) > 0;
    bool closed = file != nullptr && std::fclose(file) == 0;
    if (written && closed && std::rename(temporary.c_str(), path.c_str()) == 0) {
      return;
    }
    // A test that relies on the file would otherwise wait on a stale one without a clue.
    std::fprintf(stderr, "fake_cuda: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    std::remove(temporary.c_str());
  }

  bool initialised_ = false;
  std::vector<std::unique_ptr<CUctx_st>> contexts_;
  std::vector<size_t> used_bytes_;
  std::map<CUdeviceptr, Allocation> allocations_;
  CUdeviceptr next_address_ = kAddressBase;
  std::unordered_map<CUmod_st*, std::unique_ptr<CUmod_st>> modules_;
  std::unordered_set<CUfunc_st*> functions_;
};

// Never destroyed: a host may call the driver from its own static destructors or from threads
// still running at exit, after this library's destructors would have run.
Driver& driver() {
  static Driver* instance = new Driver;
  return *instance;
}

// No C++ exception may cross the C interface; running out of host memory is the device's too.
template <class Body> CUresult guarded(Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return CUDA_ERROR_OUT_OF_MEMORY;
  } catch (...) {
    return CUDA_ERROR_UNKNOWN;
  }
}

// ---- Device attributes ----

std::optional<int> attribute_value(CUdevice_attribute attribute, CUdevice device) {
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    return static_cast<int>(kMaxThreadsPerBlock);
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X:
    return static_cast<int>(kMaxBlockDim[0]);
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y:
    return static_cast<int>(kMaxBlockDim[1]);
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z:
    return static_cast<int>(kMaxBlockDim[2]);
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X:
    return static_cast<int>(kMaxGridDim[0]);
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y:
    return static_cast<int>(kMaxGridDim[1]);
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z:
    return static_cast<int>(kMaxGridDim[2]);
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK:
    return static_cast<int>(kMaxSharedBytesPerBlock);
  case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY:
    return 64 * 1024;
  case CU_DEVICE_ATTRIBUTE_WARP_SIZE:
    return 32;
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK:
    return 64 * 1024;
  case CU_DEVICE_ATTRIBUTE_CLOCK_RATE:
    return 1'400'000; // kHz
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    return 4;
  case CU_DEVICE_ATTRIBUTE_INTEGRATED:
    return 0;
  case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS:
    return 1;
  case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID:
    return device + 1;
  case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH:
    return 256;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR:
    return 2048;
  case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING:
    return 1;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    return 8;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    return 0;
  default:
    return std::nullopt;
  }
}

// ---- Error names ----

struct ErrorText {
  CUresult code;
  const char* name;
  const char* description;
};

constexpr ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "an argument is null or out of range"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "not enough device memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "cuInit has not succeeded"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED", "the driver is shutting down"},
    {CUDA_ERROR_STUB_LIBRARY, "CUDA_ERROR_STUB_LIBRARY",
     "this libcuda is a stub without a driver behind it"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "there is no CUDA device"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "no device has that ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "the module image cannot be loaded"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT",
     "no usable context is current on this thread"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "the image has no code for this device"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "the PTX text cannot be compiled"},
    {CUDA_ERROR_FILE_NOT_FOUND, "CUDA_ERROR_FILE_NOT_FOUND", "the file does not exist"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "the handle names no live module, function or stream"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "the named symbol does not exist"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "a kernel accessed memory outside every allocation"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "the launch needs more resources than the device has"},
    {CUDA_ERROR_CONTEXT_IS_DESTROYED, "CUDA_ERROR_CONTEXT_IS_DESTROYED",
     "the current context has been destroyed"},
    {CUDA_ERROR_MISALIGNED_ADDRESS, "CUDA_ERROR_MISALIGNED_ADDRESS",
     "a kernel accessed memory at a misaligned address"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "a kernel failed while running"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "the operation is not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "an unknown error occurred"},
};

const ErrorText* find_error(CUresult code) {
  for (const ErrorText& entry : kErrors) {
    if (entry.code == code) {
      return &entry;
    }
  }
  return nullptr;
}

CUresult error_text(CUresult code, const char** out, const char* ErrorText::*field) {
  if (is_stub()) {
    if (out != nullptr) {
      *out = nullptr;
    }
    return CUDA_ERROR_STUB_LIBRARY;
  }
  if (out == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  const ErrorText* entry = find_error(code);
  *out = entry == nullptr ? nullptr : entry->*field;
  return entry == nullptr ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

// ---- PTX reading ----
//
// The double reads only what it needs of PTX: that the text starts with `.version`, and each
// `.entry name(.param ...)` outside any body, to know the entries and their parameter layout.

struct EntryDecl {
  std::string name;
  std::vector<Param> params;
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%' ||
         c == '.';
}

size_t skip_comment(std::string_view text, size_t at) {
  if (text.compare(at, 2, "//") == 0) {
    size_t end = text.find('\n', at);
    return end == std::string_view::npos ? text.size() : end;
  }
  size_t end = text.find("*/", at + 2);
  return end == std::string_view::npos ? text.size() : end + 2;
}

// Words (directives, names, numbers), quoted strings and single punctuation characters; strings
// are whole tokens so that a `//` inside a `.file` path is not taken for a comment.
std::vector<std::string_view> tokenize(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t at = 0;
  while (at < text.size()) {
    char c = text[at];
    size_t end = at + 1;
    if (std::isspace(static_cast<unsigned char>(c))) {
      at = end;
      continue;
    }
    if (text.compare(at, 2, "//") == 0 || text.compare(at, 2, "/*") == 0) {
      at = skip_comment(text, at);
      continue;
    }
    if (c == '"') {
      size_t close = text.find('"', at + 1);
      end = close == std::string_view::npos ? text.size() : close + 1;
    } else if (is_word_char(c)) {
      while (end < text.size() && is_word_char(text[end])) {
        ++end;
      }
    }
    tokens.push_back(text.substr(at, end - at));
    at = end;
  }
  return tokens;
}

// PTX identifiers: a letter, or one of _ $ % followed by more; directives start with a dot.
bool is_identifier(std::string_view token) {
  if (token.empty() || !(std::isalpha(static_cast<unsigned char>(token[0])) || token[0] == '_' ||
                         token[0] == '$' || token[0] == '%')) {
    return false;
  }
  for (char c : token) {
    if (c == '.' || !is_word_char(c)) {
      return false;
    }
  }
  return true;
}

std::optional<size_t> parse_size(std::string_view token) {
  if (token.empty() || token.size() > 9) {
    return std::nullopt;
  }
  size_t value = 0;
  for (char c : token) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

std::optional<size_t> type_size(std::string_view type) {
  static const std::array<std::pair<std::string_view, size_t>, 17> sizes = {{
      {".u8", 1},
      {".s8", 1},
      {".b8", 1},
      {".u16", 2},
      {".s16", 2},
      {".b16", 2},
      {".f16", 2},
      {".u32", 4},
      {".s32", 4},
      {".b32", 4},
      {".f32", 4},
      {".u64", 8},
      {".s64", 8},
      {".b64", 8},
      {".f64", 8},
      {".bf16", 2},
      {".f16x2", 4},
  }};
  for (const auto& [name, size] : sizes) {
    if (name == type) {
      return size;
    }
  }
  return std::nullopt;
}

bool is_state_space(std::string_view token) {
  return token == ".global" || token == ".const" || token == ".local" || token == ".shared";
}

class EntryReader {
public:
  explicit EntryReader(const std::vector<std::string_view>& tokens) : tokens_(tokens) {}

  size_t position() const { return at_; }

  // Reads `.entry name [( .param ..., ... )]` starting at the `.entry` token.
  bool read(size_t at, EntryDecl& entry) {
    at_ = at + 1;
    if (!is_identifier(peek())) {
      return false;
    }
    entry.name = std::string(next());
    if (peek() != "(") {
      return true; // an entry without a parameter list
    }
    ++at_;
    if (peek() == ")") {
      ++at_;
      return true;
    }
    size_t cursor = 0;
    for (;;) {
      Param param{};
      if (!read_param(cursor, param)) {
        return false;
      }
      entry.params.push_back(param);
      std::string_view separator = next();
      if (separator == ")") {
        return true;
      }
      if (separator != ",") {
        return false;
      }
    }
  }

private:
  std::string_view peek() const { return at_ < tokens_.size() ? tokens_[at_] : std::string_view(); }
  std::string_view next() {
    std::string_view token = peek();
    at_ += at_ < tokens_.size() ? 1 : 0;
    return token;
  }

  // `.param [.align N] .type [.ptr [.space] [.align N]] name [[count]]`. The parameter is aligned
  // to N when given before the type, else to its element size; an `.align` after `.ptr` is the
  // alignment of what it points to, which does not change the layout.
  bool read_param(size_t& cursor, Param& param) {
    if (next() != ".param") {
      return false;
    }
    std::optional<size_t> alignment;
    if (peek() == ".align") {
      ++at_;
      alignment = parse_size(next());
    }
    std::optional<size_t> element = type_size(next());
    if (!element || (alignment && (*alignment == 0 || (*alignment & (*alignment - 1)) != 0))) {
      return false;
    }
    if (!skip_pointer_attributes() || !is_identifier(next())) {
      return false;
    }
    std::optional<size_t> count = read_array_count();
    if (!count || *count == 0) {
      return false;
    }
    size_t align = alignment.value_or(*element);
    param.offset = (cursor + align - 1) / align * align;
    param.size = *element * *count;
    cursor = param.offset + param.size;
    return true;
  }

  bool skip_pointer_attributes() {
    if (peek() != ".ptr") {
      return true;
    }
    ++at_;
    if (is_state_space(peek())) {
      ++at_;
    }
    if (peek() == ".align") {
      ++at_;
      return parse_size(next()).has_value();
    }
    return true;
  }

  std::optional<size_t> read_array_count() {
    if (peek() != "[") {
      return 1;
    }
    ++at_;
    std::optional<size_t> count = parse_size(next());
    if (next() != "]") {
      return std::nullopt;
    }
    return count;
  }

  const std::vector<std::string_view>& tokens_;
  size_t at_ = 0;
};

bool has_entry(const std::vector<EntryDecl>& entries, const std::string& name) {
  for (const EntryDecl& entry : entries) {
    if (entry.name == name) {
      return true;
    }
  }
  return false;
}

CUresult read_ptx(std::string_view text, std::vector<EntryDecl>& entries) {
  std::vector<std::string_view> tokens = tokenize(text);
  if (tokens.empty() || tokens[0] != ".version") {
    return CUDA_ERROR_INVALID_PTX;
  }
  EntryReader reader(tokens);
  int depth = 0;
  size_t at = 0;
  while (at < tokens.size()) {
    std::string_view token = tokens[at];
    if (token == ".entry" && depth == 0) {
      EntryDecl entry;
      if (!reader.read(at, entry) || has_entry(entries, entry.name)) {
        return CUDA_ERROR_INVALID_PTX;
      }
      entries.push_back(std::move(entry));
      at = reader.position();
      continue;
    }
    depth += token == "{" ? 1 : token == "}" ? -1 : 0;
    if (depth < 0) {
      return CUDA_ERROR_INVALID_PTX;
    }
    ++at;
  }
  return entries.empty() ? CUDA_ERROR_INVALID_PTX : CUDA_SUCCESS;
}

// Compiled images (ELF cubins, fatbins) need a real GPU; the double takes PTX text only.
bool is_binary_image(const char* image) {
  std::string_view head(image, strnlen(image, 4));
  return head == "\x7f"
                 "ELF" ||
         head == "\x50\xed\x55\xba";
}

// ---- Kernels ----

struct Dim3 {
  unsigned x, y, z;
};

struct LaunchShape {
  Dim3 grid;
  Dim3 block;
};

struct ThreadId {
  Dim3 block;
  Dim3 thread;
};

// A kernel's parameters laid out as on the device, from the host values kernelParams points to.
class KernelArgs {
public:
  KernelArgs(const std::vector<Param>& params, void** values) : params_(params) {
    size_t size = params.empty() ? 0 : params.back().offset + params.back().size;
    buffer_.assign(size, 0);
    for (size_t i = 0; i < params.size(); ++i) {
      std::memcpy(buffer_.data() + params[i].offset, values[i], params[i].size);
    }
  }

  template <class T> T get(size_t index) const {
    T value;
    std::memcpy(&value, buffer_.data() + params_[index].offset, sizeof(T));
    return value;
  }

private:
  const std::vector<Param>& params_;
  std::vector<unsigned char> buffer_;
};

// A kernel's loads and stores, checked as the GPU's memory system would: an address outside every
// live allocation, or not aligned to the access, faults, and the fault stops the kernel.
class DeviceMemory {
public:
  explicit DeviceMemory(const Driver& driver) : driver_(driver) {}

  CUresult fault() const { return fault_; }

  template <class T> bool load(CUdeviceptr base, uint64_t index, T* value) {
    unsigned char* bytes = address(base, index, sizeof(T));
    if (bytes != nullptr) {
      std::memcpy(value, bytes, sizeof(T));
    }
    return bytes != nullptr;
  }

  template <class T> bool store(CUdeviceptr base, uint64_t index, T value) {
    unsigned char* bytes = address(base, index, sizeof(T));
    if (bytes != nullptr) {
      std::memcpy(bytes, &value, sizeof(T));
    }
    return bytes != nullptr;
  }

private:
  unsigned char* address(CUdeviceptr base, uint64_t index, size_t size) {
    if (fault_ != CUDA_SUCCESS) {
      return nullptr;
    }
    if (index > (std::numeric_limits<CUdeviceptr>::max() - base) / size) {
      fault_ = CUDA_ERROR_ILLEGAL_ADDRESS;
      return nullptr;
    }
    CUdeviceptr target = base + index * size;
    if (target % size != 0) {
      fault_ = CUDA_ERROR_MISALIGNED_ADDRESS;
      return nullptr;
    }
    unsigned char* bytes = driver_.resolve(target, size);
    if (bytes == nullptr) {
      fault_ = CUDA_ERROR_ILLEGAL_ADDRESS;
    }
    return bytes;
  }

  const Driver& driver_;
  CUresult fault_ = CUDA_SUCCESS;
};

uint64_t global_x(const LaunchShape& shape, const ThreadId& id) {
  return uint64_t{id.block.x} * shape.block.x + id.thread.x;
}

uint64_t global_y(const LaunchShape& shape, const ThreadId& id) {
  return uint64_t{id.block.y} * shape.block.y + id.thread.y;
}

// vector_add(const float* a, const float* b, float* c, int n): c[i] = a[i] + b[i] for i < n.
void vector_add(const KernelArgs& args, const LaunchShape& shape, const ThreadId& id,
                DeviceMemory& memory) {
  uint64_t i = global_x(shape, id);
  int32_t n = args.get<int32_t>(3);
  if (n < 0 || i >= static_cast<uint64_t>(n)) {
    return;
  }
  float a = 0;
  float b = 0;
  if (memory.load(args.get<CUdeviceptr>(0), i, &a) &&
      memory.load(args.get<CUdeviceptr>(1), i, &b)) {
    memory.store(args.get<CUdeviceptr>(2), i, a + b);
  }
}

// matrix_mul(const float* A, const float* B, float* C, int n): C = A x B, n x n, row-major; one
// thread per element of C, x the column and y the row.
void matrix_mul(const KernelArgs& args, const LaunchShape& shape, const ThreadId& id,
                DeviceMemory& memory) {
  int32_t n = args.get<int32_t>(3);
  uint64_t row = global_y(shape, id);
  uint64_t column = global_x(shape, id);
  if (n < 0 || row >= static_cast<uint64_t>(n) || column >= static_cast<uint64_t>(n)) {
    return;
  }
  uint64_t size = static_cast<uint64_t>(n);
  float sum = 0;
  for (uint64_t k = 0; k < size; ++k) {
    float a = 0;
    float b = 0;
    if (!memory.load(args.get<CUdeviceptr>(0), row * size + k, &a) ||
        !memory.load(args.get<CUdeviceptr>(1), k * size + column, &b)) {
      return;
    }
    sum += a * b;
  }
  memory.store(args.get<CUdeviceptr>(2), row * size + column, sum);
}

// fill_u32(unsigned* out, unsigned value, unsigned n): out[i] = value for i < n.
void fill_u32(const KernelArgs& args, const LaunchShape& shape, const ThreadId& id,
              DeviceMemory& memory) {
  uint64_t i = global_x(shape, id);
  if (i < args.get<uint32_t>(2)) {
    memory.store(args.get<CUdeviceptr>(0), i, args.get<uint32_t>(1));
  }
}

using ThreadBody = void (*)(const KernelArgs&, const LaunchShape&, const ThreadId&, DeviceMemory&);

struct KernelSpec {
  std::string_view name;
  std::vector<size_t> param_sizes;
  ThreadBody body;
};

const std::vector<KernelSpec>& known_kernels() {
  static const std::vector<KernelSpec> kernels = {
      {"vector_add", {8, 8, 8, 4}, vector_add},
      {"matrix_mul", {8, 8, 8, 4}, matrix_mul},
      {"fill_u32", {8, 4, 4}, fill_u32},
  };
  return kernels;
}

// The C++ for an entry, when the double has it and the PTX declares the parameters it expects.
const KernelSpec* find_kernel(const CUfunc_st& function) {
  for (const KernelSpec& spec : known_kernels()) {
    if (spec.name != function.name || spec.param_sizes.size() != function.params.size()) {
      continue;
    }
    bool same = true;
    for (size_t i = 0; i < function.params.size(); ++i) {
      same = same && spec.param_sizes[i] == function.params[i].size;
    }
    return same ? &spec : nullptr;
  }
  return nullptr;
}

CUresult run_block(const KernelSpec& spec, const KernelArgs& args, const LaunchShape& shape,
                   Dim3 block, DeviceMemory& memory) {
  ThreadId id{block, {0, 0, 0}};
  for (id.thread.z = 0; id.thread.z < shape.block.z; ++id.thread.z) {
    for (id.thread.y = 0; id.thread.y < shape.block.y; ++id.thread.y) {
      for (id.thread.x = 0; id.thread.x < shape.block.x; ++id.thread.x) {
        spec.body(args, shape, id, memory);
        if (memory.fault() != CUDA_SUCCESS) {
          return memory.fault();
        }
      }
    }
  }
  return CUDA_SUCCESS;
}

CUresult run_grid(const KernelSpec& spec, const KernelArgs& args, const LaunchShape& shape,
                  DeviceMemory& memory) {
  Dim3 block{0, 0, 0};
  for (block.z = 0; block.z < shape.grid.z; ++block.z) {
    for (block.y = 0; block.y < shape.grid.y; ++block.y) {
      for (block.x = 0; block.x < shape.grid.x; ++block.x) {
        if (CUresult fault = run_block(spec, args, shape, block, memory); fault != CUDA_SUCCESS) {
          return fault;
        }
      }
    }
  }
  return CUDA_SUCCESS;
}

bool within(Dim3 dims, const std::array<unsigned, 3>& limits) {
  return dims.x >= 1 && dims.y >= 1 && dims.z >= 1 && dims.x <= limits[0] && dims.y <= limits[1] &&
         dims.z <= limits[2];
}

CUresult check_shape(const LaunchShape& shape, unsigned shared_bytes) {
  uint64_t threads = uint64_t{shape.block.x} * shape.block.y * shape.block.z;
  if (!within(shape.grid, kMaxGridDim) || !within(shape.block, kMaxBlockDim) ||
      threads > kMaxThreadsPerBlock || shared_bytes > kMaxSharedBytesPerBlock) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

// The NULL stream and the driver's two special handles (CU_STREAM_LEGACY, CU_STREAM_PER_THREAD);
// the double creates no other stream.
bool known_stream(CUstream stream) {
  auto value = reinterpret_cast<uintptr_t>(stream);
  return value == 0 || value == 1 || value == 2;
}

bool params_present(const CUfunc_st& function, void** values) {
  if (function.params.empty()) {
    return true;
  }
  if (values == nullptr) {
    return false;
  }
  for (size_t i = 0; i < function.params.size(); ++i) {
    if (values[i] == nullptr) {
      return false;
    }
  }
  return true;
}

CUresult launch(Driver& d, CUfunc_st* function, const LaunchShape& shape, unsigned shared_bytes,
                CUstream stream, void** params, void** extra) {
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
    return status;
  }
  if (!d.known_function(function) || function->module->context != context ||
      !known_stream(stream)) {
    return CUDA_ERROR_INVALID_HANDLE;
  }
  if (extra != nullptr || !params_present(*function, params)) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (CUresult status = check_shape(shape, shared_bytes); status != CUDA_SUCCESS) {
    return status;
  }
  const KernelSpec* spec = find_kernel(*function);
  if (spec == nullptr) {
    return CUDA_ERROR_NOT_FOUND;
  }
  KernelArgs args(function->params, params);
  DeviceMemory memory(d);
  // The real launch returns before the kernel runs; its faults surface on later calls.
  context->sticky_error = run_grid(*spec, args, shape, memory);
  return CUDA_SUCCESS;
}

// ---- Memory helpers ----

template <class T> CUresult memset_elements(CUdeviceptr destination, T value, size_t count) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
    return status;
  }
  if (count == 0) {
    return CUDA_SUCCESS;
  }
  if (destination % sizeof(T) != 0 || count > std::numeric_limits<size_t>::max() / sizeof(T)) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  unsigned char* bytes = d.resolve(destination, count * sizeof(T));
  if (bytes == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(bytes + i * sizeof(T), &value, sizeof(T));
  }
  return CUDA_SUCCESS;
}

std::unique_ptr<CUmod_st> build_module(CUctx_st* context, std::vector<EntryDecl>& entries) {
  auto module = std::make_unique<CUmod_st>();
  module->context = context;
  for (EntryDecl& entry : entries) {
    auto function = std::make_unique<CUfunc_st>();
    function->name = std::move(entry.name);
    function->params = std::move(entry.params);
    function->module = module.get();
    module->functions.push_back(std::move(function));
  }
  return module;
}

} // namespace

// ---- The driver API ----

extern "C" {

CUresult cuInit(unsigned int Flags) {
  return guarded([&]() -> CUresult {
    Driver& d = driver();
    std::lock_guard lock(d.mutex);
    if (is_stub()) {
      return CUDA_ERROR_STUB_LIBRARY;
    }
    return Flags != 0 ? CUDA_ERROR_INVALID_VALUE : d.init();
  });
}

CUresult cuDriverGetVersion(int* driverVersion) {
  if (is_stub()) {
    return CUDA_ERROR_STUB_LIBRARY;
  }
  if (driverVersion == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *driverVersion = kDriverVersion;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (count == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *count = d.device_count();
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (device == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (!d.valid_device(ordinal)) {
    return CUDA_ERROR_INVALID_DEVICE;
  }
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (name == nullptr || len <= 0) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (!d.valid_device(dev)) {
    return CUDA_ERROR_INVALID_DEVICE;
  }
  // Truncated to fit, as the driver does.
  std::snprintf(name, static_cast<size_t>(len), "ofwatchdog fake CUDA device %d", dev);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (pi == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (!d.valid_device(dev)) {
    return CUDA_ERROR_INVALID_DEVICE;
  }
  std::optional<int> value = attribute_value(attrib, dev);
  if (!value) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *pi = *value;
  return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (bytes == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (!d.valid_device(dev)) {
    return CUDA_ERROR_INVALID_DEVICE;
  }
  *bytes = config().memory_bytes;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (pctx == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (!d.valid_device(dev)) {
    return CUDA_ERROR_INVALID_DEVICE;
  }
  CUctx_st* context = d.primary_context(dev);
  ++context->refcount;
  *pctx = context;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (!d.valid_device(dev)) {
    return CUDA_ERROR_INVALID_DEVICE;
  }
  CUctx_st* context = d.primary_context(dev);
  if (context->refcount == 0) {
    return CUDA_ERROR_INVALID_CONTEXT;
  }
  if (--context->refcount == 0) {
    d.reset(context);
  }
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (ctx != nullptr && !d.known_context(ctx)) {
    return CUDA_ERROR_INVALID_CONTEXT;
  }
  t_current = ctx;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext* pctx) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (pctx == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *pctx = t_current;
  return CUDA_SUCCESS;
}

// Kernels have already run by the time their launch returns; what is left is a pending fault.
CUresult cuCtxSynchronize(void) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  return d.current(&context);
}

CUresult cuStreamQuery(CUstream hStream) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
    return status;
  }
  if (hStream != nullptr) {
    return CUDA_ERROR_INVALID_HANDLE;
  }
  if (d.busy_queries > 0) {
    --d.busy_queries;
    return CUDA_ERROR_NOT_READY;
  }
  return CUDA_SUCCESS;
}

CUresult cuMemGetInfo_v2(size_t* free, size_t* total) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
    return status;
  }
  if (free == nullptr || total == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *total = config().memory_bytes;
  *free = *total - d.used_bytes(context->device);
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytesize) {
  return guarded([&]() -> CUresult {
    Driver& d = driver();
    std::lock_guard lock(d.mutex);
    CUctx_st* context = nullptr;
    if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
      return status;
    }
    if (dptr == nullptr || bytesize == 0) {
      return CUDA_ERROR_INVALID_VALUE;
    }
    return d.allocate(context, bytesize, dptr);
  });
}

CUresult cuMemFree_v2(CUdeviceptr dptr) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
    return status;
  }
  return d.release(dptr);
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void* srcHost, size_t ByteCount) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS || ByteCount == 0) {
    return status;
  }
  unsigned char* destination = d.resolve(dstDevice, ByteCount);
  if (destination == nullptr || srcHost == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  std::memcpy(destination, srcHost, ByteCount);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void* dstHost, CUdeviceptr srcDevice, size_t ByteCount) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS || ByteCount == 0) {
    return status;
  }
  const unsigned char* source = d.resolve(srcDevice, ByteCount);
  if (source == nullptr || dstHost == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  std::memcpy(dstHost, source, ByteCount);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS || ByteCount == 0) {
    return status;
  }
  unsigned char* destination = d.resolve(dstDevice, ByteCount);
  const unsigned char* source = d.resolve(srcDevice, ByteCount);
  if (destination == nullptr || source == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  // Overlap is the caller's mistake on a GPU; here it must at least not be undefined behaviour.
  std::memmove(destination, source, ByteCount);
  return CUDA_SUCCESS;
}

CUresult cuMemsetD8_v2(CUdeviceptr dstDevice, unsigned char uc, size_t N) {
  return memset_elements(dstDevice, uc, N);
}

CUresult cuMemsetD16_v2(CUdeviceptr dstDevice, unsigned short us, size_t N) {
  return memset_elements(dstDevice, us, N);
}

CUresult cuMemsetD32_v2(CUdeviceptr dstDevice, unsigned int ui, size_t N) {
  return memset_elements(dstDevice, ui, N);
}

CUresult cuModuleLoadData(CUmodule* module, const void* image) {
  return guarded([&]() -> CUresult {
    Driver& d = driver();
    std::lock_guard lock(d.mutex);
    CUctx_st* context = nullptr;
    if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
      return status;
    }
    if (module == nullptr || image == nullptr) {
      return CUDA_ERROR_INVALID_VALUE;
    }
    const char* text = static_cast<const char*>(image);
    if (is_binary_image(text)) {
      return CUDA_ERROR_INVALID_IMAGE;
    }
    std::vector<EntryDecl> entries;
    if (CUresult status = read_ptx(text, entries); status != CUDA_SUCCESS) {
      return status;
    }
    std::unique_ptr<CUmod_st> loaded = build_module(context, entries);
    *module = loaded.get();
    d.add_module(std::move(loaded));
    return CUDA_SUCCESS;
  });
}

CUresult cuModuleUnload(CUmodule hmod) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
    return status;
  }
  if (!d.known_module(hmod)) {
    return CUDA_ERROR_INVALID_HANDLE;
  }
  d.remove_module(hmod);
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  CUctx_st* context = nullptr;
  if (CUresult status = d.current(&context); status != CUDA_SUCCESS) {
    return status;
  }
  if (hfunc == nullptr || name == nullptr) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  if (!d.known_module(hmod)) {
    return CUDA_ERROR_INVALID_HANDLE;
  }
  for (const auto& function : hmod->functions) {
    if (function->name == name) {
      *hfunc = function.get();
      return CUDA_SUCCESS;
    }
  }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuFuncGetParamInfo(CUfunction func, size_t paramIndex, size_t* paramOffset,
                            size_t* paramSize) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  if (CUresult status = d.ready(); status != CUDA_SUCCESS) {
    return status;
  }
  if (!d.known_function(func) || paramOffset == nullptr || paramIndex >= func->params.size()) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  *paramOffset = func->params[paramIndex].offset;
  if (paramSize != nullptr) {
    *paramSize = func->params[paramIndex].size;
  }
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                        unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY,
                        unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream,
                        void** kernelParams, void** extra) {
  return guarded([&]() -> CUresult {
    Driver& d = driver();
    // Held while the kernel runs: a free from another thread must not pull memory from under it.
    std::lock_guard lock(d.mutex);
    LaunchShape shape{{gridDimX, gridDimY, gridDimZ}, {blockDimX, blockDimY, blockDimZ}};
    return launch(d, f, shape, sharedMemBytes, hStream, kernelParams, extra);
  });
}

CUresult cuGetErrorName(CUresult error, const char** pStr) {
  return error_text(error, pStr, &ErrorText::name);
}

CUresult cuGetErrorString(CUresult error, const char** pStr) {
  return error_text(error, pStr, &ErrorText::description);
}

void fake_cuda_busy_queries(unsigned count) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  d.busy_queries = count;
}

unsigned long long fake_cuda_live_allocations(void) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  return d.live_allocations();
}

unsigned long long fake_cuda_live_bytes(void) {
  Driver& d = driver();
  std::lock_guard lock(d.mutex);
  return d.live_bytes();
}

} // extern "C"
