#include "work/worker_context.hpp"

#include <exception>

namespace ofwatchdog::work {

WorkRead WorkerContext::read_body(char* buffer, std::size_t capacity) {
  ByteChannel::ReadResult got = link_.input.read(buffer, capacity);
  switch (got.status) {
  case ByteChannel::Status::ok:
    return {WorkStatus::ok, got.size};
  case ByteChannel::Status::end:
    return {WorkStatus::end, 0};
  default:
    return {WorkStatus::cancelled, 0};
  }
}

WorkWait WorkerContext::wait(bool for_body, std::chrono::steady_clock::time_point deadline) {
  if (cancelled())
    return WorkWait::cancelled;
  switch (link_.input.wait(for_body, deadline)) {
  case ByteChannel::Status::ok:
    return WorkWait::ready;
  case ByteChannel::Status::empty:
    return WorkWait::timed_out;
  default:
    return WorkWait::cancelled;
  }
}

WorkStatus WorkerContext::send_body(std::string_view data) {
  // Every body byte has a head before it in the link, so the pump never has to guess one.
  if (!link_.head_set())
    link_.set_head(ResponseHead{});
  if (data.empty())
    return cancelled() ? WorkStatus::cancelled : WorkStatus::ok;
  return link_.output.write(data) == ByteChannel::Status::ok ? WorkStatus::ok
                                                             : WorkStatus::cancelled;
}

void run_job(const std::shared_ptr<WorkLink>& link, const WorkJob& job, LoopLog& log) {
  if (!link->token.cancelled()) {
    WorkerContext context(*link, log);
    // Nothing may escape a worker thread (std::terminate); a throwing job is a failed request.
    try {
      job(context);
    } catch (const std::exception& e) {
      link->fail(e.what());
    } catch (...) {
      link->fail("unknown exception");
    }
  }
  link->end_work();
}

} // namespace ofwatchdog::work
