#pragma once
// What one request shares between the worker running its job and the `ExchangePump` serving
// its exchange on the loop: the cancellation token, a channel each way, the response head and
// how the job ended. It holds nothing of the loop's, so either side may drop it last.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "work/byte_channel.hpp"
#include "work/cancel_token.hpp"
#include "work/loop_inbox.hpp"

namespace ofwatchdog::work {

class ExchangePump;

class WorkLink : public std::enable_shared_from_this<WorkLink> {
public:
  // Loop thread. Cancelling the token fails both channels, which wakes a blocked worker.
  static std::shared_ptr<WorkLink> create(Request request, Watermarks marks, LoopInbox& inbox);

  const Request request;
  CancelToken token;
  ByteChannel input;  // request body: the pump pushes, the worker reads
  ByteChannel output; // response body: the worker writes, the pump pulls

  // Where the response head is. The worker commits it; from then on the response is the job's
  // answer, and a failure can only cut it short: the pump sends a committed head before it
  // aborts, so what the client is told never depends on how far the loop had got.
  enum class HeadState {
    unset,     // no head yet: a failure is answered with a 500 of its own
    committed, // the worker set it; the pump has not taken it yet
    taken,     // the pump took it for the exchange
  };

  // Worker: commits the response head. Only the first one counts, and none after `fail`;
  // returns whether this one did.
  bool set_head(ResponseHead head);
  // Any thread: whether a head was committed (taken or not).
  bool head_set() const;
  // Worker: the job is over. `fail` first makes the outcome `failed` with `error`; after it the
  // job's output is dropped. `end_work` closes both channels and wakes the pump; it is the
  // worker's last use of the link.
  void fail(std::string error);
  bool failed() const;
  void end_work();

  // Loop: the head, once, when the worker has committed it (committed -> taken).
  std::optional<ResponseHead> take_head();
  // Loop: whether `end_work` has run, and how the job ended (valid once it has).
  bool worker_done() const;
  WorkOutcome outcome() const;

  // Any thread: has the loop call `pump->service()`. Wakeups that come while one is queued are
  // folded into it: the flag is cleared on the loop before the pump looks at the state, so a
  // change after that look queues a new wakeup.
  void wake();
  // Loop thread only: the pump that serves this link, cleared when it is gone.
  ExchangePump* pump = nullptr;

private:
  WorkLink(Request request, Watermarks marks, LoopInbox& inbox);

  LoopInbox& inbox_;
  std::atomic<bool> wake_queued_{false};

  mutable std::mutex mutex_;
  HeadState head_state_ = HeadState::unset; // guarded by mutex_
  ResponseHead head_;                       // guarded by mutex_; valid while committed
  bool failed_ = false;                     // guarded by mutex_
  bool worker_done_ = false;                // guarded by mutex_
  std::string error_;                       // guarded by mutex_
};

} // namespace ofwatchdog::work
