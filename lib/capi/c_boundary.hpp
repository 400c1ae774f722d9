#pragma once
// What every function of the C ABI shares: the handle types behind the opaque names, and the
// guard that keeps a C++ exception from crossing into a C caller.

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/function.hpp"
#include "ofwatchdog/ofwatchdog.h"
#include "ofwatchdog/watchdog.hpp"

// The server a C program configures and runs.
struct ofw_server {
  enum class State { configured, running, ran };

  ofwatchdog::Config config;
  ofw_handler handler = nullptr;
  void* handler_data = nullptr;
  ofw_setup setup = nullptr;
  void* setup_data = nullptr;
  ofw_thread_hook on_thread_start = nullptr;
  ofw_thread_hook on_thread_stop = nullptr;
  void* hook_data = nullptr;
  ofwatchdog::FunctionOptions options;

  State state = State::configured;
  // ofw_server_stop may come from any thread, before, during or after run.
  std::mutex stop_mutex;
  bool stop_requested = false;
  std::unique_ptr<ofwatchdog::Watchdog> watchdog;
};

// One request, for the thread running its handler.
struct ofw_call {
  // The response as the C caller has taken it, so that a refused call says why: a head or a
  // write at the wrong time is OFW_ESTATE, a malformed one OFW_EINVAL.
  enum class Response { none, head_sent };

  explicit ofw_call(ofwatchdog::StreamingCall& c) : call(c) {}
  ofwatchdog::StreamingCall& call;
  Response response = Response::none;
};

namespace ofwatchdog::capi {

// Runs `body`, turning any exception into a result code: nothing a C caller can do makes the
// library throw through it.
template <typename Body> auto guarded(Body&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return OFW_ENOMEM;
  } catch (...) {
    return OFW_EINVAL;
  }
}

// A view from the C caller's pointer and size: nothing when the pointer is NULL but the size
// is not 0.
inline std::optional<std::string_view> view(const char* data, std::size_t size) {
  if (data == nullptr)
    return size == 0 ? std::optional<std::string_view>("") : std::nullopt;
  return std::string_view(data, size);
}

inline void set(ofw_str* out, std::string_view text) {
  out->data = text.data();
  out->size = text.size();
}

} // namespace ofwatchdog::capi
