#pragma once
// The services every function request gets, whatever serves it: a mode derives its per-request
// object from RequestJob and gets them in a few lines.
//
// - `max_body_size`: `refuse_declared_body_over_limit()` answers a declared Content-Length over
//   the limit with 413 before anything starts (and before `100 Continue`); `body_over_limit`
//   checks a count of received bytes for chunked bodies; `send_refusal` is the answer.
// - The exec deadline: `start_deadline()` arms `exec_timeout`, shortened by the request's
//   `X-Timeout`; `on_deadline()` runs when it passes (a mode typically answers 504, or 500 with
//   `context deadline exceeded` as the fork modes do, or aborts a response already started).
// - Time: `seconds_since_start()`, for `X-Duration-Seconds` and the access line.
// - The access line: `log_access()` fills in the method and URI and skips Kubernetes probes.
// - Stopping: every job is in its mode's JobRegistry from construction to destruction; the
//   mode's `stop` calls `registry.stop_all(done)`, which calls `shut_down()` on each job and
//   `done` once the last one has been destroyed.
// - Its lifetime: the mode creates a job with `new` and forgets it; the job calls
//   `finish_job()` when it is over, and the base destroys it at a safe point: never inside the
//   call that finished it (the next turn of the loop at the earliest, as libuv frees a handle
//   only in its close callback), and only after every callback the job said it waits for
//   (`expect_callback` / `callback_done`, or `close_handle` for a libuv handle of its own) has
//   run. So a job may finish from anywhere, deep in a callback chain, and go on to return; a
//   job never deletes itself, and nothing else deletes it either.
//
// Everything runs on the loop thread.
//
//   class UpperJob final : public ofwatchdog::RequestJob {
//    public:
//     using RequestJob::RequestJob;
//     void run() {
//       if (refuse_declared_body_over_limit()) return finish_job();
//       start_deadline();
//       exchange_->set_handler(this);
//     }
//     void on_body(std::string_view d) override { body_ += d; }
//     void on_body_end() override { ...answer...; log_access(...); finish_job(); }
//     void on_deadline() override { ...504...; finish_job(); }
//     void on_cancel(ofwatchdog::CancelReason) override { finish_job(); }
//     void shut_down() override { exchange_->abort(); finish_job(); }
//   };
//
//   void UpperMode::handle(std::shared_ptr<Exchange> exchange) {
//     (new UpperJob(context_, std::move(exchange), registry_))->run(); // the registry owns it
//   }
//
// examples/custom_mode/ is a complete mode built this way.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/log.hpp"
#include "ofwatchdog/mode_strategy.hpp"

struct uv_handle_s;

namespace ofwatchdog {

class RequestJob;

namespace modes {
class ExecDeadline;
}

// The live jobs of one mode.
class OFWATCHDOG_API JobRegistry {
public:
  JobRegistry() = default;
  JobRegistry(const JobRegistry&) = delete;
  JobRegistry& operator=(const JobRegistry&) = delete;

  // Calls `shut_down` on every live job, then `done` once none is left (at once when none is).
  void stop_all(std::function<void()> done);
  // Calls `done` once no job is left (at once when none is), without ending any.
  void when_empty(std::function<void()> done);
  bool empty() const { return live_.empty(); }
  std::size_t size() const { return live_.size(); }

private:
  friend class RequestJob;
  void join(RequestJob* job) { live_.insert(job); }
  void leave(RequestJob* job);

  std::unordered_set<RequestJob*> live_;
  std::function<void()> on_empty_;
};

class OFWATCHDOG_API RequestJob : public ExchangeHandler {
public:
  RequestJob(const RequestJob&) = delete;
  RequestJob& operator=(const RequestJob&) = delete;

  // The watchdog is stopping: end the request as soon as possible, and `finish_job()`.
  virtual void shut_down() = 0;

protected:
  // The clock of `seconds_since_start` starts here.
  RequestJob(const ModeContext& context, std::shared_ptr<Exchange> exchange,
             std::shared_ptr<JobRegistry> registry);
  ~RequestJob() override;

  const ModeContext& context() const { return context_; }
  const Config& config() const { return *context_.config; }
  Logger& log() const { return *context_.log; }

  // --- max_body_size ------------------------------------------------------------------------
  // True when `bytes` passes the limit (0 = no limit; a body of exactly the limit passes).
  bool body_over_limit(std::uint64_t bytes) const;
  // When the request declares a Content-Length over the limit: refuses it with 413 through
  // `on_refused` and returns true; the job should then end.
  bool refuse_declared_body_over_limit();
  // A refusal the watchdog makes itself (413, 431, ...): by default logs `text`, answers with
  // `send_refusal` and writes the access line. A mode overrides it to end its own way.
  virtual void on_refused(int status, const std::string& text);
  // `Request body too large: the limit is <n> bytes`.
  std::string body_too_large_text() const;
  // Answers with a refusal the watchdog makes itself: `status`, `text/plain; charset=utf-8`,
  // `X-OpenFaaS-Internal: of-watchdog`, `text` as the body; the handler is detached first, so
  // what is left of the body is the server's to discard.
  void send_refusal(int status, const std::string& text);

  // --- the exec deadline --------------------------------------------------------------------
  // `exec_timeout`, shortened by `X-Timeout`; <= 0 when there is none.
  Duration deadline() const { return deadline_; }
  // Arms the deadline (nothing happens when there is none); `on_deadline` runs when it passes.
  void start_deadline();
  // The deadline no longer applies.
  void stop_deadline();
  virtual void on_deadline() {}

  // --- time and the access line ---------------------------------------------------------------
  std::uint64_t started_ns() const { return started_ns_; }
  double seconds_since_start() const;
  // Writes the access line with the request's method and URI (nothing for Kubernetes probes).
  // `seconds` is taken as given: callers pass seconds_since_start() or the moment they mean.
  void log_access(AccessRecord record) const;

  // --- the job's lifetime ----------------------------------------------------------------------
  // The job is over: it is destroyed once the current callback has returned and every callback
  // it waits for has run (see the top of this file). Calling it again does nothing.
  void finish_job();
  bool job_finished() const { return lifetime_ != Lifetime::serving; }
  // The job must outlive one more callback (a handle's close, a request on the thread pool, a
  // transfer), even when it finishes first; `callback_done` when that callback has run.
  void expect_callback();
  void callback_done();
  // Closes a libuv handle that lives inside the job (its `data` is taken over for the close);
  // the job is not destroyed before the handle's close callback has run.
  void close_handle(uv_handle_s* handle);

  // The exchange being served; a job may reset it once it no longer needs it.
  std::shared_ptr<Exchange> exchange_;
  ModeContext context_;

private:
  // serving -> finished (waiting for callbacks) -> reaping (its reaper handle is closing, the
  // destruction comes in the close callback).
  enum class Lifetime : std::uint8_t { serving, finished, reaping };
  void reap_if_done();

  std::shared_ptr<JobRegistry> registry_;
  Lifetime lifetime_ = Lifetime::serving;
  int callbacks_pending_ = 0;
  std::uint64_t started_ns_;
  Duration deadline_{0};
  std::unique_ptr<modes::ExecDeadline> timer_;
};

} // namespace ofwatchdog
