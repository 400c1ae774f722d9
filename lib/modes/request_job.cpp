// RequestJob and JobRegistry; see include/ofwatchdog/request_job.hpp.
#include "ofwatchdog/request_job.hpp"

#include <vector>

#include <uv.h>

#include "modes/access_line.hpp"
#include "modes/body_limit.hpp"
#include "modes/exec_deadline.hpp"
#include "modes/exec_timeout.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog {

void JobRegistry::stop_all(std::function<void()> done) {
  when_empty(std::move(done));
  // shut_down may end a job (and so change the set) at once.
  std::vector<RequestJob*> live(live_.begin(), live_.end());
  for (RequestJob* job : live) {
    if (live_.count(job) != 0)
      job->shut_down();
  }
}

void JobRegistry::when_empty(std::function<void()> done) {
  if (live_.empty()) {
    done();
    return;
  }
  on_empty_ = std::move(done);
}

void JobRegistry::leave(RequestJob* job) {
  live_.erase(job);
  if (live_.empty() && on_empty_) {
    std::function<void()> on_empty = std::move(on_empty_);
    on_empty_ = nullptr;
    on_empty();
  }
}

RequestJob::RequestJob(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                       std::shared_ptr<JobRegistry> registry)
    : exchange_(std::move(exchange)), context_(context), registry_(std::move(registry)),
      started_ns_(uv_hrtime()) {
  if (registry_)
    registry_->join(this);
}

RequestJob::~RequestJob() {
  OFW_INVARIANT(lifetime_ != Lifetime::finished, "a finished job destroyed by someone else");
  timer_.reset();
  if (registry_)
    registry_->leave(this);
}

void RequestJob::finish_job() {
  if (lifetime_ != Lifetime::serving)
    return;
  lifetime_ = Lifetime::finished;
  reap_if_done();
}

void RequestJob::expect_callback() {
  OFW_INVARIANT(lifetime_ != Lifetime::reaping, "a callback expected by a job being destroyed");
  ++callbacks_pending_;
}

void RequestJob::callback_done() {
  OFW_INVARIANT(callbacks_pending_ > 0, "a callback the job did not expect");
  --callbacks_pending_;
  reap_if_done();
}

void RequestJob::close_handle(uv_handle_t* handle) {
  expect_callback();
  handle->data = this;
  uv_close(handle,
           [](uv_handle_t* closed) { static_cast<RequestJob*>(closed->data)->callback_done(); });
}

void RequestJob::reap_if_done() {
  if (lifetime_ != Lifetime::finished || callbacks_pending_ != 0)
    return;
  lifetime_ = Lifetime::reaping;
  // The destruction waits for the loop's next close phase: whatever called us (the exchange,
  // a relay, a timer) may still use its own state, and ours, when we return.
  auto* reaper = new uv_idle_t;
  uv_idle_init(context_.loop, reaper);
  reaper->data = this;
  uv_close(reinterpret_cast<uv_handle_t*>(reaper), [](uv_handle_t* handle) {
    auto* job = static_cast<RequestJob*>(handle->data);
    delete reinterpret_cast<uv_idle_t*>(handle);
    delete job;
  });
}

bool RequestJob::body_over_limit(std::uint64_t bytes) const {
  return modes::over_body_limit(config(), bytes);
}

std::string RequestJob::body_too_large_text() const {
  return modes::body_too_large_text(config());
}

bool RequestJob::refuse_declared_body_over_limit() {
  const Request& request = exchange_->request();
  if (!request.content_length || !body_over_limit(*request.content_length))
    return false;
  on_refused(413, body_too_large_text());
  return true;
}

void RequestJob::on_refused(int status, const std::string& text) {
  log().info(text);
  send_refusal(status, text);
  std::string code = std::to_string(status);
  AccessRecord record;
  record.status = code;
  record.bytes = static_cast<std::int64_t>(text.size());
  record.seconds = seconds_since_start();
  log_access(record);
}

void RequestJob::send_refusal(int status, const std::string& text) {
  modes::send_refusal(*exchange_, status, text);
}

void RequestJob::start_deadline() {
  deadline_ = modes::effective_exec_timeout(config().exec_timeout,
                                            exchange_->request().header("X-Timeout"));
  if (deadline_ <= Duration::zero())
    return;
  if (!timer_)
    timer_ = std::make_unique<modes::ExecDeadline>();
  timer_->start(context_.loop, deadline_, [this] { on_deadline(); });
}

void RequestJob::stop_deadline() {
  if (timer_)
    timer_->stop();
}

double RequestJob::seconds_since_start() const {
  return static_cast<double>(uv_hrtime() - started_ns_) / 1e9;
}

void RequestJob::log_access(AccessRecord record) const {
  modes::log_access_line(log(), exchange_->request(), record);
}

} // namespace ofwatchdog
