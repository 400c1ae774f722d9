#include "wasm/guest_thread.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/invariant.hpp"
#include "wasm/guest_signals.hpp"
#include "wasm/guest_state.hpp"

namespace ofwatchdog::wasm {
namespace {

constexpr std::size_t kPage = 4096;

std::string failure(const char* what, int error) {
  return std::string("cannot start a guest thread: ") + what + ": " + std::strerror(error);
}

std::size_t round_up(std::size_t bytes) {
  return (bytes + kPage - 1) / kPage * kPage;
}

} // namespace

GuestThread::GuestThread(std::function<void()> body, GuestThreadOptions options) {
  std::string error = begin(std::move(body), options);
  OFW_INVARIANT(error.empty(), "a wasm guest thread starts: " + error);
}

std::unique_ptr<GuestThread> GuestThread::start(std::function<void()> body, std::string& error,
                                                GuestThreadOptions options) {
  std::unique_ptr<GuestThread> thread(new GuestThread());
  error = thread->begin(std::move(body), options);
  if (!error.empty())
    return nullptr;
  return thread;
}

std::string GuestThread::begin(std::function<void()> body, GuestThreadOptions options) {
  body_ = std::move(body);
  install_guest_signal_handlers();
  stack_bytes_ = round_up(options.stack_bytes < (1u << 20) ? (1u << 20) : options.stack_bytes);
  // Layout, low to high: [page guard][signal stack][stack guard][stack]. The signal stack's
  // own guard page keeps an overflowing handler from running into anything else.
  mapping_bytes_ = kPage + kSignalStackBytes + kGuardBytes + stack_bytes_;
  void* mapping =
      mmap(nullptr, mapping_bytes_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mapping == MAP_FAILED)
    return failure("mmap", errno);
  auto* base = static_cast<std::uint8_t*>(mapping);
  if (mprotect(base + kPage, kSignalStackBytes, PROT_READ | PROT_WRITE) != 0 ||
      mprotect(base + kPage + kSignalStackBytes + kGuardBytes, stack_bytes_,
               PROT_READ | PROT_WRITE) != 0) {
    int error = errno; // each mprotect splits the mapping, so vm.max_map_count can refuse it
    munmap(mapping, mapping_bytes_);
    return failure("mprotect", error);
  }
  mapping_ = mapping; // entry() reads it, from the moment the thread exists
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstack(&attributes, base + kPage + kSignalStackBytes + kGuardBytes, stack_bytes_);
  int error = pthread_create(&thread_, &attributes, &GuestThread::entry, this);
  pthread_attr_destroy(&attributes);
  if (error != 0) {
    munmap(mapping, mapping_bytes_);
    mapping_ = nullptr;
    return failure("pthread_create", error);
  }
  return {};
}

GuestThread::~GuestThread() {
  if (mapping_ == nullptr)
    return; // never started
  join();
  munmap(mapping_, mapping_bytes_);
}

void GuestThread::join() {
  if (!joined_) {
    pthread_join(thread_, nullptr);
    joined_ = true;
  }
}

void* GuestThread::entry(void* self) {
  auto& thread = *static_cast<GuestThread*>(self);
  auto* base = static_cast<std::uint8_t*>(thread.mapping_);

  stack_t signal_stack = {};
  signal_stack.ss_sp = base + kPage;
  signal_stack.ss_size = kSignalStackBytes;
  sigaltstack(&signal_stack, nullptr);

  GuestThreadState state;
  state.guard_begin = reinterpret_cast<std::uintptr_t>(base + kPage + kSignalStackBytes);
  state.guard_end = state.guard_begin + kGuardBytes;
  state.host_stack_floor = state.guard_end + kHostStackReserve;
  set_current_guest_thread(&state);

  thread.body_();

  set_current_guest_thread(nullptr);
  stack_t disabled = {};
  disabled.ss_flags = SS_DISABLE;
  sigaltstack(&disabled, nullptr);
  return nullptr;
}

} // namespace ofwatchdog::wasm
