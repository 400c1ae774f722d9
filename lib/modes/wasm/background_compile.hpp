#pragma once
// wasm-engines (docs/decisions.md) under wasm_engine=auto: the module is compiled ahead of time on
// a thread of its own, at the lowest CPU priority (its compiler processes inherit it), while the
// interpreter serves.
// The result comes back on the loop; a stop kills the compiler and waits for the thread
// without blocking the loop.

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "wasm/compile_module.hpp"
#include "wasm/tool_run.hpp"

namespace ofwatchdog::modes {

class BackgroundCompile {
public:
  using Done = std::function<void(wasm::CompileResult)>;

  // Loop thread. `done` runs on the loop with the compile's result, unless `close` came first.
  BackgroundCompile(uv_loop_t* loop, std::string module_path, std::string cache_dir, Done done);
  // Only once closed (aborts otherwise: the handle would be freed while the loop holds it).
  ~BackgroundCompile();
  BackgroundCompile(const BackgroundCompile&) = delete;
  BackgroundCompile& operator=(const BackgroundCompile&) = delete;

  // Loop thread: stops a compile still running (its tool is killed; `done` is not called),
  // and calls `closed` on the loop once the thread has ended and the handle is closed.
  void close(std::function<void()> closed);

private:
  static void on_async(uv_async_t* async);
  static void on_closed(uv_handle_t* handle);
  void compile(std::string module_path, std::string cache_dir);

  uv_async_t async_{};
  wasm::ToolCancel cancel_;
  std::mutex mutex_;
  std::optional<wasm::CompileResult> result_; // guarded by mutex_: set by the thread
  Done done_;
  std::function<void()> closed_;
  bool finished_ = false; // loop thread: the thread has ended and been joined
  bool closing_ = false;
  bool open_ = false;
  std::thread thread_;
};

} // namespace ofwatchdog::modes
