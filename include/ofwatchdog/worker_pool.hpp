#pragma once
// Work off the loop: a request served by blocking code on a thread of its own, with the
// watchdog's loop doing all the I/O.
//
// A `WorkerPool` owns N threads (not libuv's shared threadpool, which file I/O uses). `submit`
// binds an `Exchange` to a job: the job runs on a worker and sees the request through a
// `WorkContext`, whose blocking calls move bytes through bounded channels that the loop feeds
// from and drains into the exchange. A slow client blocks the job in `send_body`; a body not yet
// arrived blocks it in `read_body`. A timeout, a vanished client or `stop` cancels the request:
// a blocked call returns `WorkStatus::cancelled` at once.
//
// The threading rule: no thread but the loop's touches an `Exchange`. The job never sees one.
//
//   auto pool = ofwatchdog::make_worker_pool(loop, logger, {.threads = 4});
//   pool->submit(exchange, [](ofwatchdog::WorkContext& work) {
//     work.send_head({200, {{"Content-Type", "application/octet-stream"}}, std::nullopt});
//     char buf[65536];
//     for (;;) {
//       auto got = work.read_body(buf, sizeof buf);
//       if (got.status != ofwatchdog::WorkStatus::ok) break;   // end, or cancelled
//       if (work.send_body({buf, got.size}) != ofwatchdog::WorkStatus::ok) break;
//     }
//   });                        // returning normally finishes the response

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/log.hpp"

struct uv_loop_s;

namespace ofwatchdog {

enum class WorkStatus {
  ok,        // the bytes were read or taken
  end,       // read_body only: the whole body has been read
  cancelled, // the request is cancelled (or the job failed): stop and return
};

// How `WorkContext::wait` ended.
enum class WorkWait {
  ready,     // the body is ready (only when waiting for it)
  timed_out, // the deadline passed
  cancelled, // the request is cancelled
};

struct OFWATCHDOG_API WorkRead {
  WorkStatus status = WorkStatus::ok;
  std::size_t size = 0; // bytes placed in the buffer; 0 unless status is ok
};

// The request as a job sees it, on its worker thread. Only the worker running the job may call
// these methods; they are not for the loop.
class OFWATCHDOG_API WorkContext {
public:
  virtual ~WorkContext() = default;

  // A copy of the request head, taken on the loop when the job was submitted.
  virtual const Request& request() const = 0;

  // Blocks until some body bytes have arrived (at most `capacity` are copied), the body ended,
  // or the request is cancelled.
  virtual WorkRead read_body(char* buffer, std::size_t capacity) = 0;

  // Whether `read_body` would return at once: bytes arrived, the body ended, or the request
  // is cancelled.
  virtual bool body_ready() const = 0;
  // Blocks until `deadline`, or (with `for_body`) until `body_ready`, or until the request is
  // cancelled: a guest's sleep or poll that a timeout must still cut short.
  virtual WorkWait wait(bool for_body, std::chrono::steady_clock::time_point deadline) = 0;

  // Sets the response's status and headers, and commits the response: from here on a failure
  // cuts this response short rather than replacing it. Only the first call counts; `send_body`
  // without one commits `200` with no headers.
  virtual void send_head(ResponseHead head) = 0;
  // Copies `data` into the response, blocking while the client is behind.
  virtual WorkStatus send_body(std::string_view data) = 0;
  // Gives up on the request: unsent output is dropped; the client gets a 500 with `message`
  // when the job had not committed a head (see `send_head`), otherwise that head (sent now if
  // the loop had not sent it yet) and an aborted response. Later calls return
  // `WorkStatus::cancelled`.
  virtual void fail(std::string message) = 0;

  // Whether the request is cancelled, and why (nullopt while it is not).
  virtual bool cancelled() const = 0;
  virtual std::optional<CancelReason> cancel_reason() const = 0;
  // Calls `interrupt` when the request is cancelled (at once if it already is), e.g. to stop
  // guest code that never calls back into the context. It runs on the thread that cancels,
  // which is the loop thread for every cancellation the watchdog makes, so it must be quick
  // and thread-safe, and must not call back into this context.
  virtual void on_cancel(std::function<void()> interrupt) = 0;

  // Log lines, written on the loop through the watchdog's Logger in the order a job wrote them:
  // one of the watchdog's own lines, or a line of the function's output ("stderr"/"stdout").
  virtual void log(std::string_view line) = 0;
  virtual void relay(std::string_view stream, std::string_view line) = 0;
};

// A job: returning normally finishes the response; a thrown exception is a failure as `fail`.
using WorkJob = std::function<void(WorkContext&)>;

// How a job ended, reported on the loop once its thread is done with the request.
struct OFWATCHDOG_API WorkOutcome {
  enum class Kind {
    finished,  // the job returned and the response was finished
    failed,    // the job called `fail` or threw; `error` says why
    cancelled, // the request was cancelled; `reason` says why
  };
  Kind kind = Kind::finished;
  std::string error;
  CancelReason reason = CancelReason::shutdown;
  // Whether a head had reached the exchange; a head the job committed always has, unless the
  // exchange was cancelled. When it had not, a failed request, or one cancelled by `stop`, is
  // still open (`Exchange::done()` is false): the `done` callback answers it (e.g. 500 with
  // `error`). One whose exchange was cancelled is over already.
  bool response_started = false;
};
using WorkDone = std::function<void(const WorkOutcome&)>;

struct OFWATCHDOG_API WorkerPoolOptions {
  unsigned threads = 0;                // 0: one per core
  std::size_t queue_limit = 0;         // jobs waiting for a free thread; 0: 64 per thread
  std::size_t high_water = 256 * 1024; // bytes buffered per direction before the producer waits
  std::size_t low_water = 64 * 1024;   // bytes buffered at which a waiting producer goes on
  // Run on each worker thread before its first job and after its last (e.g. an engine's
  // per-thread signal stack and memory). They must not throw.
  std::function<void()> on_thread_start = nullptr;
  std::function<void()> on_thread_exit = nullptr;
  // Starts a thread running `body` and returns the call that joins it, for threads an engine
  // must prepare itself (its own stack with a known guard region, say). Empty: std::thread.
  // When no thread can be made it throws, as std::thread does (any std::exception, whose
  // what() says why): the pool stays at the threads it has and logs the reason.
  std::function<std::function<void()>(std::function<void()> body)> start_thread = nullptr;
  // How long a thread that finished a job keeps looking for the next one before it sleeps.
  // Waking a sleeping thread costs tens of microseconds on a virtual machine (and the CPU it
  // left may have gone idle); a thread that is still looking takes the next job at once. It
  // spends CPU only while jobs come that fast, and a resize or a stop ends it. 0 (the default)
  // never spins; use it only with two or more CPUs, or the spinner delays what it waits for.
  std::chrono::microseconds spin{0};
};

struct OFWATCHDOG_API WorkerPoolStats {
  // The size asked for (set_threads), which running threads approach; lowered to the threads
  // running when one more could not be made.
  unsigned threads = 0;
  unsigned busy = 0;      // threads running a job
  std::size_t queued = 0; // jobs waiting for a thread
};

class OFWATCHDOG_API WorkerPool {
public:
  virtual ~WorkerPool() = default;

  // Loop thread. Queues `job` for `exchange` and becomes the exchange's handler. Returns false,
  // touching nothing, when the pool is stopping or `queue_limit` jobs already wait: the caller
  // answers the request itself (e.g. 503). `done` runs on the loop when the job's thread is done
  // with the request and the exchange is no longer used; without it a failed request that had
  // not started its response gets a 500 with the error, and a cancelled one is aborted. `done`
  // must not throw.
  // A request cancelled while its job still waits (its client left, a deadline passed) leaves
  // the queue at once: `done` comes then, not when a thread frees up.
  virtual bool submit(std::shared_ptr<Exchange> exchange, WorkJob job, WorkDone done = {}) = 0;

  // Loop thread. Runs `task` on a worker thread and then `done` on the loop: for work that needs
  // nothing from the loop while it runs, such as a function given a whole request body already
  // read. It costs one queue push and one post back, with no channels. Returns the task's
  // number (for `withdraw`), or 0, running nothing, when the pool is stopping or `queue_limit`
  // jobs already wait. A task queued when `stop` is called still runs (it should look at its
  // own cancellation and return at once); `stop`'s `done` comes after every `done` of a task.
  // Neither may throw.
  virtual std::uint64_t run(std::function<void()> task, std::function<void()> done) = 0;
  // Loop thread. Takes task `number` out of the queue if no thread has started it (its request
  // was cancelled while it waited): it never runs, and its `done` comes on the loop, later.
  // Returns whether it did.
  virtual bool withdraw(std::uint64_t number) = 0;

  // Loop thread. Resizes the pool to `threads` (at least 1) and returns at once: the missing
  // threads are started one after another off the loop (so growing by thousands never holds
  // it); above the size, idle threads are woken to leave a few dozen at a time, also off the
  // loop, and busy ones leave once their job returns. A thread that cannot be made ends the
  // growth where it is (see `start_thread`).
  virtual void set_threads(unsigned threads) = 0;
  // Loop thread. The pool's size and load now.
  virtual WorkerPoolStats stats() const = 0;

  // Loop thread. Refuses new jobs, cancels every request still in the pool
  // (`CancelReason::shutdown`), lets the running jobs return, and calls `done` on the loop once
  // every thread is joined. The loop is not blocked meanwhile. The pool may be destroyed from
  // `done` on; it must not be destroyed before.
  virtual void stop(std::function<void()> done) = 0;
};

// Starts `options.threads` threads (off the loop, as set_threads does). Call on the loop thread;
// `log` must outlive the pool.
OFWATCHDOG_API std::unique_ptr<WorkerPool> make_worker_pool(uv_loop_s* loop, Logger& log,
                                                            WorkerPoolOptions options = {});

} // namespace ofwatchdog
