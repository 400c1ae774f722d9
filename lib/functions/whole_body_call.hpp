#pragma once
// One request to a whole-body function: the body is collected on the loop, the function runs on
// a worker of the pool as a plain task (no channels: it needs nothing from the loop while it
// runs), and the answer is checked and sent on the loop. A request served this way costs one
// queue push and one post back.

#include <atomic>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "functions/streaming_call.hpp"
#include "functions/whole_body.hpp"
#include "modes/deadline_exchange.hpp"
#include "ofwatchdog/function.hpp"
#include "ofwatchdog/worker_pool.hpp"

namespace ofwatchdog::functions {

class WholeBodyCall final : public ExchangeHandler,
                            public CallContext,
                            public std::enable_shared_from_this<WholeBodyCall> {
public:
  // Loop thread, when the call is over and may be destroyed (it holds a reference meanwhile).
  using Ended = std::function<void(WholeBodyCall&)>;
  // Loop thread: answers a request the pool has no room for (the mode's 429).
  using Refuse = std::function<void(Exchange&)>;

  WholeBodyCall(std::shared_ptr<modes::DeadlineExchange> exchange, const Function& function,
                WorkerPool& pool, CallSetup setup, Logger& log, Refuse refuse, Ended ended);

  // Loop thread: starts reading the body.
  void start();
  // Loop thread: the watchdog stops. A call still reading ends now; a running one is told to
  // stop and ends when its task returns.
  void shut_down();

  // CallContext, for the function on its worker thread.
  std::string_view call_id() const override { return call_id_; }
  std::optional<Duration> time_left() const override;
  std::stop_token stop_token() const override { return stop_.get_token(); }
  std::optional<CancelReason> stop_reason() const override;
  void log(std::string_view line) override { lines_.emplace_back(line); }

private:
  // The call's life: reading the body on the loop, running the function on a worker, over.
  enum class Phase { reading, running, over };

  void on_body(std::string_view data) override { body_ += data; }
  void on_body_end() override;
  void on_cancel(CancelReason reason) override;

  // Loop thread: the task returned; the answer goes out unless the exchange ended meanwhile.
  void answer();
  void stop(CancelReason reason);
  void end();

  std::shared_ptr<modes::DeadlineExchange> exchange_;
  const Function& function_;
  WorkerPool& pool_;
  CallSetup setup_;
  Logger& log_;
  Refuse refuse_;
  Ended ended_;
  Phase phase_ = Phase::reading;
  std::string call_id_;
  std::string body_;
  // Written on the loop before the task is queued, used by the worker while it runs, read on
  // the loop after it returned: the pool's queue and post order the accesses.
  FunctionRequest request_;
  WholeOutcome outcome_;
  std::vector<std::string> lines_; // the function's log lines, written when it returns
  std::uint64_t task_ = 0;         // the pool's number for the running task
  std::stop_source stop_;
  std::atomic<int> stop_reason_{-1}; // a CancelReason, set before stop_ is requested
};

} // namespace ofwatchdog::functions
