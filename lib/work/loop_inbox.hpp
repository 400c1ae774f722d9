#pragma once
// Closures posted from any thread and run on the loop thread, in the order they were posted.
//
// One `uv_async_t` carries every wakeup. libuv coalesces sends that arrive before the callback
// runs, so a send is only a "look at the queue" signal: the callback takes the whole queue under
// the lock and runs it. A post that lands after the callback took the queue sends again, and
// libuv promises a callback after every send, so no closure is left behind.

#include <functional>
#include <mutex>
#include <vector>

#include <uv.h>

namespace ofwatchdog::work {

class LoopInbox {
public:
  // On the loop thread.
  explicit LoopInbox(uv_loop_t* loop);
  // The handle must have been closed (`close`'s `done` has run), or never initialised.
  ~LoopInbox();
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  // Any thread. Queues `task` to run on the loop. Returns false, dropping it, once `close` has
  // begun. Tasks must not throw: they run inside a libuv callback.
  bool post(std::function<void()> task);

  // Loop thread. Refuses later posts, runs what is queued, closes the handle, and calls `done`
  // from the close callback; the inbox may be destroyed from `done` on. Everything that posts
  // must be finished by now (the pool joins its threads first).
  void close(std::function<void()> done);

private:
  static void async_cb(uv_async_t* async);
  static void close_cb(uv_handle_t* handle);
  void run_queued();

  uv_async_t async_{};
  std::mutex mutex_;
  std::vector<std::function<void()>> queued_; // guarded by mutex_
  bool closing_ = false;                      // guarded by mutex_
  bool open_ = false;                         // loop thread: the handle is initialised, not closed
  std::function<void()> close_done_;
};

} // namespace ofwatchdog::work
