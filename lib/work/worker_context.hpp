#pragma once
// The worker's side of a request: the `WorkContext` a job is given, over the request's link.

#include <memory>

#include "ofwatchdog/worker_pool.hpp"
#include "work/loop_log.hpp"
#include "work/work_link.hpp"

namespace ofwatchdog::work {

class WorkerContext final : public WorkContext {
public:
  WorkerContext(WorkLink& link, LoopLog& log) : link_(link), log_(log) {}

  const Request& request() const override { return link_.request; }
  WorkRead read_body(char* buffer, std::size_t capacity) override;
  bool body_ready() const override { return link_.input.readable(); }
  WorkWait wait(bool for_body, std::chrono::steady_clock::time_point deadline) override;
  void send_head(ResponseHead head) override { link_.set_head(std::move(head)); }
  WorkStatus send_body(std::string_view data) override;
  void fail(std::string message) override { link_.fail(std::move(message)); }
  bool cancelled() const override { return link_.token.cancelled() || link_.failed(); }
  std::optional<CancelReason> cancel_reason() const override { return link_.token.reason(); }
  void on_cancel(std::function<void()> interrupt) override {
    link_.token.on_trip(std::move(interrupt));
  }
  void log(std::string_view line) override { log_.info(line); }
  void relay(std::string_view stream, std::string_view line) override { log_.relay(stream, line); }

private:
  WorkLink& link_;
  LoopLog& log_;
};

// Worker thread: runs `job` for `link` (unless the request was cancelled while it waited),
// turns an exception into a failure, and ends the work. The link is not used afterwards.
void run_job(const std::shared_ptr<WorkLink>& link, const WorkJob& job, LoopLog& log);

} // namespace ofwatchdog::work
