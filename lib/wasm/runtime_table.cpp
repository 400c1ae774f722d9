#include "wasm/runtime_table.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "util/invariant.hpp"
#include "wasi/host_call.hpp"
#include "wasm/guest_state.hpp"
#include "wasm/host_import.hpp"
#include "wasm/memory_slot.hpp"
#include "wasm/module_check.hpp"

namespace ofwatchdog::wasm {
namespace {

// wasm2c keeps a memory's size in 32 bits, so 65536 pages (4 GiB) would read as 0 bytes.
constexpr std::uint32_t kMaxPages = 65535;

// Every runtime function starts here: out of guest code (a signal must not jump out of the
// runtime's own work) and with enough stack left to do that work safely.
GuestThreadState& enter_runtime() {
  GuestThreadState* thread = current_guest_thread();
  OFW_INVARIANT(thread != nullptr && thread->run != nullptr,
                "wasm guest code runs only inside InstanceRunner::run on a GuestThread");
  leave_guest(*thread);
  auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  if (here < thread->host_stack_floor) {
    end_run_trapped(*thread, TrapKind::call_stack_exhausted);
  }
  return *thread;
}

TrapKind trap_kind_of(std::uint32_t trap) {
  switch (trap) {
  case OFW_TRAP_TABLE_OUT_OF_BOUNDS:
    return TrapKind::table_out_of_bounds;
  case OFW_TRAP_UNDEFINED_ELEMENT:
    return TrapKind::undefined_element;
  case WASM_RT_TRAP_OOB:
    return TrapKind::out_of_bounds_memory;
  case WASM_RT_TRAP_INT_OVERFLOW:
    return TrapKind::integer_overflow;
  case WASM_RT_TRAP_DIV_BY_ZERO:
    return TrapKind::integer_divide_by_zero;
  case WASM_RT_TRAP_INVALID_CONVERSION:
    return TrapKind::invalid_conversion;
  case WASM_RT_TRAP_UNREACHABLE:
    return TrapKind::unreachable;
  case WASM_RT_TRAP_CALL_INDIRECT:
    return TrapKind::indirect_call_mismatch;
  case WASM_RT_TRAP_UNCAUGHT_EXCEPTION:
    return TrapKind::uncaught_exception;
  case WASM_RT_TRAP_EXHAUSTION:
    return TrapKind::call_stack_exhausted;
  default:
    break;
  }
  return TrapKind::unreachable;
}

std::uint32_t host_call(void*, std::uint32_t function, const std::uint64_t* args) {
  GuestThreadState& thread = enter_runtime();
  ActiveRun& run = *thread.run;
  wasi::GuestMemory memory;
  if (run.memory != nullptr) {
    memory = {run.memory->data, run.memory->size};
  }
  wasi::HostResult result;
  try {
    if (function >= kCudaCallBase) {
      // A GPU guest's CUDA import: it always returns to the guest, with a CUresult.
      result.value = gpu::call_cuda(
          run.cuda, static_cast<gpu::CudaFunction>(function - kCudaCallBase), args, memory);
    } else {
      result = run.host->call(static_cast<wasi::Function>(function), args, memory);
    }
  } catch (...) {
    // Unwinding through the module's C frames is not possible; the run ends instead.
    end_run_trapped(thread, TrapKind::host_failure);
  }
  switch (result.kind) {
  case wasi::HostResult::Kind::exited: {
    RunOutcome outcome;
    outcome.kind = RunOutcome::Kind::exited;
    outcome.exit_code = result.value;
    end_run(thread, outcome);
  }
  case wasi::HostResult::Kind::interrupted: {
    RunOutcome outcome;
    outcome.kind = RunOutcome::Kind::interrupted;
    end_run(thread, outcome);
  }
  case wasi::HostResult::Kind::returned:
    break;
  }
  enter_guest(thread);
  return result.value;
}

void trap(std::uint32_t trap) {
  // No stack check: a trap needs only the jump, and reporting the stack instead of the trap
  // near the guard would be wrong.
  GuestThreadState* thread = current_guest_thread();
  end_run_trapped(*thread, trap_kind_of(trap));
}

// Function types, shared by all modules: call_indirect compares these indices.
struct FuncTypeRegistry {
  std::mutex mutex;
  // Params, results, then the count of params: plain numbers, since a count is no value of
  // the enum.
  std::vector<std::vector<std::uint32_t>> types;
};
FuncTypeRegistry& func_types() {
  static FuncTypeRegistry registry;
  return registry;
}

// Called by a module's init_module, when it is loaded, not during a run.
std::uint32_t register_func_type(std::uint32_t params, std::uint32_t results,
                                 const wasm_rt_type_t* types) {
  std::vector<std::uint32_t> key;
  key.reserve(params + results + 1);
  for (std::uint32_t i = 0; i < params + results; ++i)
    key.push_back(static_cast<std::uint32_t>(types[i]));
  key.push_back(params);
  FuncTypeRegistry& registry = func_types();
  std::lock_guard lock(registry.mutex);
  for (std::size_t i = 0; i < registry.types.size(); ++i) {
    if (registry.types[i] == key) {
      return static_cast<std::uint32_t>(i + 1); // 0 is never a valid type: null funcrefs have it
    }
  }
  registry.types.push_back(std::move(key));
  return static_cast<std::uint32_t>(registry.types.size());
}

void allocate_memory(wasm_rt_memory_t* memory, std::uint32_t initial_pages,
                     std::uint32_t max_pages) {
  GuestThreadState& thread = enter_runtime();
  ActiveRun& run = *thread.run;
  // The module check admits one memory.
  OFW_INVARIANT(run.memory == nullptr, "a wasm module allocated a second memory");
  if (initial_pages > run.max_pages ||
      !run.slot->set_accessible(std::uint64_t(initial_pages) * kWasmPageBytes)) {
    end_run_trapped(thread, TrapKind::memory_limit);
  }
  memory->data = run.slot->base();
  memory->pages = initial_pages;
  memory->max_pages = max_pages;
  memory->size = initial_pages * std::uint32_t(kWasmPageBytes);
  run.memory = memory;
  enter_guest(thread);
}

std::uint32_t grow_memory(wasm_rt_memory_t* memory, std::uint32_t delta_pages) {
  GuestThreadState& thread = enter_runtime();
  ActiveRun& run = *thread.run;
  std::uint64_t old_pages = memory->pages;
  std::uint64_t new_pages = old_pages + delta_pages;
  std::uint64_t limit = std::min<std::uint64_t>({memory->max_pages, run.max_pages, kMaxPages});
  std::uint32_t result = UINT32_MAX; // wasm-memory-limit: past the limit the guest sees -1
  if (new_pages <= limit && run.slot->set_accessible(new_pages * kWasmPageBytes)) {
    memory->pages = static_cast<std::uint32_t>(new_pages);
    memory->size = static_cast<std::uint32_t>(new_pages * kWasmPageBytes);
    result = static_cast<std::uint32_t>(old_pages);
  }
  enter_guest(thread);
  return result;
}

// The slot outlives the instance and is reset by the runner; the instance only forgets it.
void free_memory(wasm_rt_memory_t* memory) {
  memory->data = nullptr;
  memory->size = 0;
  memory->pages = 0;
}

template <typename Table, typename Element>
void allocate_table(Table* table, std::uint32_t elements, std::uint32_t max_elements) {
  GuestThreadState& thread = enter_runtime();
  table->data = nullptr;
  table->size = 0;
  table->max_size = max_elements;
  if (elements > 0) {
    table->data = static_cast<Element*>(std::calloc(elements, sizeof(Element)));
    if (table->data == nullptr) {
      end_run_trapped(thread, TrapKind::memory_limit);
    }
  }
  table->size = elements;
  enter_guest(thread);
}

template <typename Table> void free_table(Table* table) {
  std::free(table->data);
  table->data = nullptr;
  table->size = 0;
}

template <typename Table, typename Element>
std::uint32_t grow_table(Table* table, std::uint32_t delta, const Element& init) {
  GuestThreadState& thread = enter_runtime();
  std::uint64_t old_size = table->size;
  std::uint64_t new_size = old_size + delta;
  std::uint32_t result = UINT32_MAX;
  // Tables of more than 10 million entries are refused: the guest sees a failed grow.
  if (new_size <= table->max_size && new_size <= 10'000'000) {
    void* grown = delta == 0 ? table->data : std::realloc(table->data, new_size * sizeof(Element));
    if (grown != nullptr || new_size == 0) {
      table->data = static_cast<Element*>(grown);
      for (std::uint64_t i = old_size; i < new_size; ++i) {
        table->data[i] = init;
      }
      table->size = static_cast<std::uint32_t>(new_size);
      result = static_cast<std::uint32_t>(old_size);
    }
  }
  enter_guest(thread);
  return result;
}

void allocate_funcref_table(wasm_rt_funcref_table_t* table, std::uint32_t elements,
                            std::uint32_t max_elements) {
  allocate_table<wasm_rt_funcref_table_t, wasm_rt_funcref_t>(table, elements, max_elements);
}
void free_funcref_table(wasm_rt_funcref_table_t* table) {
  free_table(table);
}
std::uint32_t grow_funcref_table(wasm_rt_funcref_table_t* table, std::uint32_t delta,
                                 const wasm_rt_funcref_t* init) {
  return grow_table(table, delta, *init);
}
void allocate_externref_table(wasm_rt_externref_table_t* table, std::uint32_t elements,
                              std::uint32_t max_elements) {
  allocate_table<wasm_rt_externref_table_t, wasm_rt_externref_t>(table, elements, max_elements);
}
void free_externref_table(wasm_rt_externref_table_t* table) {
  free_table(table);
}
std::uint32_t grow_externref_table(wasm_rt_externref_table_t* table, std::uint32_t delta,
                                   wasm_rt_externref_t init) {
  return grow_table(table, delta, init);
}

// Exceptions: one active exception per thread, as wasm2c's own runtime keeps it.
struct ActiveException {
  std::uint32_t tag = 0;
  std::uint32_t size = 0;
  unsigned char values[256] = {};
};
thread_local ActiveException tls_exception;
std::atomic<std::uint32_t> next_tag{1};

std::uint32_t register_tag(std::uint32_t) {
  return next_tag.fetch_add(1);
}

void load_exception(std::uint32_t tag, std::uint32_t size, const void* values) {
  GuestThreadState& thread = enter_runtime();
  if (size > sizeof(tls_exception.values)) {
    end_run_trapped(thread, TrapKind::uncaught_exception);
  }
  tls_exception.tag = tag;
  tls_exception.size = size;
  std::memcpy(tls_exception.values, values, size);
  enter_guest(thread);
}

void throw_exception() {
  GuestThreadState& thread = *current_guest_thread();
  WASM_RT_UNWIND_TARGET* target = thread.run->unwind_target;
  if (target == nullptr) {
    end_run_trapped(thread, TrapKind::uncaught_exception);
  }
  siglongjmp(*target, 1);
}

WASM_RT_UNWIND_TARGET* get_unwind_target() {
  return current_guest_thread()->run->unwind_target;
}
void set_unwind_target(WASM_RT_UNWIND_TARGET* target) {
  current_guest_thread()->run->unwind_target = target;
}
std::uint32_t exception_tag() {
  return tls_exception.tag;
}
std::uint32_t exception_size() {
  return tls_exception.size;
}
void* exception() {
  return tls_exception.values;
}

const ofw_runtime_v1 kRuntime = {
    OFW_WASM_ABI_VERSION,
    host_call,
    trap,
    register_func_type,
    allocate_memory,
    grow_memory,
    free_memory,
    allocate_funcref_table,
    free_funcref_table,
    grow_funcref_table,
    allocate_externref_table,
    free_externref_table,
    grow_externref_table,
    register_tag,
    load_exception,
    throw_exception,
    get_unwind_target,
    set_unwind_target,
    exception_tag,
    exception_size,
    exception,
};

} // namespace

const ofw_runtime_v1& runtime_table() {
  return kRuntime;
}

} // namespace ofwatchdog::wasm
