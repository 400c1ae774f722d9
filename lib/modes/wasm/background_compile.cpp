#include "modes/wasm/background_compile.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

#include "util/invariant.hpp"

namespace ofwatchdog::modes {

BackgroundCompile::BackgroundCompile(uv_loop_t* loop, std::string module_path,
                                     std::string cache_dir, Done done)
    : done_(std::move(done)) {
  int rc = uv_async_init(loop, &async_, &BackgroundCompile::on_async);
  OFW_INVARIANT(rc == 0, "uv_async_init of a background compile succeeds");
  async_.data = this;
  open_ = true;
  thread_ = std::thread(
      [this, module_path = std::move(module_path), cache_dir = std::move(cache_dir)]() mutable {
        compile(std::move(module_path), std::move(cache_dir));
      });
}

BackgroundCompile::~BackgroundCompile() {
  OFW_INVARIANT(!open_ && !thread_.joinable(), "a background compile closed before it goes");
}

// Compile thread.
void BackgroundCompile::compile(std::string module_path, std::string cache_dir) {
  // Linux keeps a nice value per thread, and processes this thread starts inherit it: the
  // compiler takes only CPU time the requests leave.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  wasm::CompileOptions options;
  options.cancel = &cancel_;
  wasm::CompileResult result = wasm::compile_module_file(module_path, cache_dir, options);
  {
    std::lock_guard lock(mutex_);
    result_ = std::move(result);
  }
  uv_async_send(&async_);
}

void BackgroundCompile::on_async(uv_async_t* async) {
  auto* self = static_cast<BackgroundCompile*>(async->data);
  std::optional<wasm::CompileResult> result;
  {
    std::lock_guard lock(self->mutex_);
    if (!self->result_)
      return; // a wake-up for nothing (async sends coalesce, but a spurious one costs nothing)
    result = std::move(self->result_);
    self->result_.reset();
  }
  self->thread_.join(); // it has sent its last word: this waits only for it to return
  self->finished_ = true;
  if (self->closing_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&self->async_), &BackgroundCompile::on_closed);
    return;
  }
  if (self->done_)
    self->done_(std::move(*result));
}

void BackgroundCompile::close(std::function<void()> closed) {
  if (closing_)
    return;
  closing_ = true;
  closed_ = std::move(closed);
  if (finished_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), &BackgroundCompile::on_closed);
    return;
  }
  // The compile fails at once; on_async then closes.
  cancel_.cancel();
}

void BackgroundCompile::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<BackgroundCompile*>(handle->data);
  self->open_ = false;
  auto closed = std::move(self->closed_);
  // `closed` may destroy this object.
  if (closed)
    closed();
}

} // namespace ofwatchdog::modes
