#include "work/loop_inbox.hpp"

#include "util/invariant.hpp"
#include <cstdio>
#include <cstdlib>

namespace ofwatchdog::work {

LoopInbox::LoopInbox(uv_loop_t* loop) {
  // uv_async_init fails only when the loop cannot make an eventfd: no way to go on.
  OFW_INVARIANT(uv_async_init(loop, &async_, &LoopInbox::async_cb) == 0,
                "a LoopInbox gets its async handle");
  async_.data = this;
  open_ = true;
}

LoopInbox::~LoopInbox() {
  // Freeing a handle libuv still links in its loop corrupts the loop later: fail here instead.
  OFW_INVARIANT(!open_, "a LoopInbox is destroyed only after close");
}

bool LoopInbox::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (closing_)
    return false;
  queued_.push_back(std::move(task));
  // Sending under the lock keeps `close` from closing the handle between the check above and
  // the send: close takes the same lock before uv_close.
  uv_async_send(&async_);
  return true;
}

void LoopInbox::close(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  run_queued();
  close_done_ = std::move(done);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), &LoopInbox::close_cb);
}

void LoopInbox::async_cb(uv_async_t* async) {
  static_cast<LoopInbox*>(async->data)->run_queued();
}

void LoopInbox::close_cb(uv_handle_t* handle) {
  auto* self = static_cast<LoopInbox*>(handle->data);
  self->open_ = false;
  auto done = std::move(self->close_done_);
  // `done` may destroy the inbox: nothing touches `self` after it.
  if (done)
    done();
}

void LoopInbox::run_queued() {
  // One batch per callback: a post that lands while it runs has sent again, so it gets a
  // callback of its own, and a worker that posts without pause cannot hold the loop here.
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queued_);
  }
  for (auto& task : batch)
    task();
}

} // namespace ofwatchdog::work
