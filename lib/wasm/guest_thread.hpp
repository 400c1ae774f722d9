#pragma once
// A thread prepared to run guest code: its stack is mapped here, with a guard region of known
// addresses below it (a guest that recurses without end faults there and the fault becomes
// "call stack exhausted"), and it has an alternate signal stack for the handler of that fault.
// InstanceRunner::run works only on such a thread. A mode with its own queue starts its
// workers with it instead of std::thread.

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace ofwatchdog::wasm {

struct GuestThreadOptions {
  std::size_t stack_bytes = 8u << 20;
};

class GuestThread {
public:
  // Faults past the guard are impossible: the compile driver builds modules with
  // -fstack-clash-protection, so no frame skips more than a page.
  static constexpr std::size_t kGuardBytes = 64u << 10;
  // What the runtime's functions and the WASI host may use below the guest's deepest frame.
  static constexpr std::size_t kHostStackReserve = 256u << 10;
  static constexpr std::size_t kSignalStackBytes = 64u << 10;

  // Starts the thread running `body`; aborts if no thread can be made (for tools and tests,
  // where that means the environment is broken).
  explicit GuestThread(std::function<void()> body, GuestThreadOptions options = {});
  // Starts the thread running `body`, or returns nullptr with `error` saying why no thread
  // could be made (the process is out of mappings, address space or threads): a server that
  // grows its pool on request must survive a size the machine cannot hold.
  static std::unique_ptr<GuestThread> start(std::function<void()> body, std::string& error,
                                            GuestThreadOptions options = {});
  ~GuestThread(); // joins
  GuestThread(const GuestThread&) = delete;
  GuestThread& operator=(const GuestThread&) = delete;

  void join();
  pthread_t native_handle() const { return thread_; }

private:
  GuestThread() = default;
  // Maps the stacks and creates the thread; on failure leaves nothing behind and returns why.
  std::string begin(std::function<void()> body, GuestThreadOptions options);
  static void* entry(void* self);

  std::function<void()> body_;
  void* mapping_ = nullptr; // signal stack, guard, stack, from low to high addresses
  std::size_t mapping_bytes_ = 0;
  std::size_t stack_bytes_ = 0;
  pthread_t thread_{};
  bool joined_ = false;
};

} // namespace ofwatchdog::wasm
