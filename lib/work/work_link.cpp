#include "work/work_link.hpp"

#include "work/exchange_pump.hpp"

namespace ofwatchdog::work {

std::shared_ptr<WorkLink> WorkLink::create(Request request, Watermarks marks, LoopInbox& inbox) {
  std::shared_ptr<WorkLink> link(new WorkLink(std::move(request), marks, inbox));
  // The hook holds a plain pointer: the token is a member, so the link outlives its hooks.
  WorkLink* raw = link.get();
  link->token.on_trip([raw] {
    raw->input.cancel();
    raw->output.cancel();
  });
  return link;
}

WorkLink::WorkLink(Request req, Watermarks marks, LoopInbox& inbox)
    : request(std::move(req)), input(marks, [this] { wake(); }), output(marks, [this] { wake(); }),
      inbox_(inbox) {}

bool WorkLink::set_head(ResponseHead head) {
  {
    std::lock_guard lock(mutex_);
    // After a failure nothing more is committed: the failure already decided the answer.
    if (head_state_ != HeadState::unset || failed_)
      return false;
    head_state_ = HeadState::committed;
    head_ = std::move(head);
  }
  // The head goes out on its own, so a client sees the status while the job computes a body.
  wake();
  return true;
}

bool WorkLink::head_set() const {
  std::lock_guard lock(mutex_);
  return head_state_ != HeadState::unset;
}

void WorkLink::fail(std::string error) {
  {
    std::lock_guard lock(mutex_);
    if (failed_)
      return;
    failed_ = true;
    error_ = std::move(error);
  }
  output.cancel();
}

bool WorkLink::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void WorkLink::end_work() {
  {
    std::lock_guard lock(mutex_);
    worker_done_ = true;
  }
  // The outcome is recorded before the output ends, so a pump that sees the end (under the
  // channel's lock, taken after this one was released) also sees how the job ended.
  output.close_write();
  input.close_read();
  wake();
}

std::optional<ResponseHead> WorkLink::take_head() {
  std::lock_guard lock(mutex_);
  if (head_state_ != HeadState::committed)
    return std::nullopt;
  head_state_ = HeadState::taken;
  return std::move(head_);
}

bool WorkLink::worker_done() const {
  std::lock_guard lock(mutex_);
  return worker_done_;
}

WorkOutcome WorkLink::outcome() const {
  WorkOutcome outcome;
  std::optional<CancelReason> reason = token.reason();
  std::lock_guard lock(mutex_);
  if (failed_) {
    outcome.kind = WorkOutcome::Kind::failed;
    outcome.error = error_;
  } else if (reason) {
    outcome.kind = WorkOutcome::Kind::cancelled;
    outcome.reason = *reason;
  }
  return outcome;
}

void WorkLink::wake() {
  if (wake_queued_.exchange(true))
    return;
  // A refused post means the pool has stopped: every pump is gone, nobody is left to wake.
  inbox_.post([self = shared_from_this()] {
    self->wake_queued_.store(false);
    if (self->pump != nullptr)
      self->pump->service();
  });
}

} // namespace ofwatchdog::work
