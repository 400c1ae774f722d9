#include "wasm/instance_runner.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "util/invariant.hpp"
#include "wasm/guest_signals.hpp"
#include "wasm/module_check.hpp"

namespace ofwatchdog::wasm {

InstanceRunner::InstanceRunner() {
  install_guest_signal_handlers();
}

InstanceRunner::~InstanceRunner() {
  if (instance_ != nullptr) {
    ::operator delete(instance_, std::align_val_t(instance_align_));
  }
}

bool InstanceRunner::reserve_slot(std::string& error) {
  if (!slot_)
    slot_ = MemorySlot::reserve(error);
  return slot_ != nullptr;
}

void InstanceRunner::reserve_instance(const ofw_module_v1& module) {
  std::size_t align = module.instance_align < alignof(std::max_align_t) ? alignof(std::max_align_t)
                                                                        : module.instance_align;
  if (instance_ != nullptr && instance_bytes_ >= module.instance_size && instance_align_ >= align) {
    return;
  }
  if (instance_ != nullptr) {
    ::operator delete(instance_, std::align_val_t(instance_align_));
  }
  instance_bytes_ = module.instance_size;
  instance_align_ = align;
  instance_ = ::operator new(instance_bytes_, std::align_val_t(instance_align_));
}

// The active segments taken out at compile time, in module order, after wasm2c's
// instantiation (which checked their offsets against the memory and copied nothing).
void InstanceRunner::apply_image(const ofw_module_v1& module) {
  const wasm_rt_memory_t* memory = active_.memory;
  for (std::uint32_t i = 0; i < module.data_segment_count; ++i) {
    const ofw_data_segment_v1& segment = module.data_segments[i];
    if (memory == nullptr || std::uint64_t(segment.guest_offset) + segment.size > memory->size) {
      GuestThreadState& thread = *current_guest_thread();
      end_run_trapped(thread, TrapKind::out_of_bounds_memory);
    }
    std::memcpy(memory->data + segment.guest_offset, segment.bytes, segment.size);
  }
}

RunOutcome InstanceRunner::run(const CompiledModule& module, wasi::HostCalls& host,
                               const RunLimits& limits, RunControl* control, gpu::GuestCuda* cuda) {
  GuestThreadState* thread = current_guest_thread();
  OFW_INVARIANT(thread != nullptr && thread->run == nullptr,
                "InstanceRunner::run runs on a GuestThread not already running a guest");
  {
    std::string error; // scoped: nothing here may live across the guest's longjmp
    OFW_INVARIANT(reserve_slot(error), "a wasm memory slot can be reserved: " + error);
  }
  const ofw_module_v1& descriptor = module.descriptor();
  reserve_instance(descriptor);
  // A module with much data brings its memory image; the slot keeps it mapped from one
  // request to the next. If the kernel refuses the mapping, the segments are copied instead.
  const CowImage* image = module.image();
  if (!slot_->use_image(image)) {
    image = nullptr;
    slot_->use_image(nullptr);
  }
  std::memset(instance_, 0, descriptor.instance_size);

  active_.slot = slot_.get();
  active_.host = &host;
  active_.cuda = cuda;
  active_.control = control;
  active_.memory = nullptr;
  active_.max_pages = max_pages_of(limits);
  active_.outcome = RunOutcome{};
  active_.unwind_target = nullptr;

  if (control != nullptr) {
    control->bind();
  }
  thread->run = &active_;
  if (sigsetjmp(active_.jump, 1) == 0) {
    enter_guest(*thread); // ends the run at once if it was interrupted before it began
    descriptor.instantiate(instance_, &active_);
    leave_guest(*thread);
    // The mapped image is the segments' content already; a memory too small for it is left to
    // apply_image, whose bounds check traps as instantiation would.
    if (image == nullptr || active_.memory == nullptr || image->bytes() > active_.memory->size)
      apply_image(descriptor);
    enter_guest(*thread);
    descriptor.start(instance_);
    leave_guest(*thread);
    active_.outcome = RunOutcome{};
  }
  // Every path here is outside guest code: end_run and the line above clear the mark.
  descriptor.free_instance(instance_);
  thread->run = nullptr;
  if (control != nullptr) {
    control->unbind();
  }
  slot_->reset();
  return active_.outcome;
}

} // namespace ofwatchdog::wasm
