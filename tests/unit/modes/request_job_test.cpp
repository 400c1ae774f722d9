// Who owns a request's object (request_job.hpp, handler_mode.hpp): a finished RequestJob is
// destroyed on the loop's next turn, never inside the call that finished it, and only after the
// callbacks it waits for; a handler made by serve_with goes once its exchange has ended.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <uv.h>

#include "mode_harness.hpp"
#include "ofwatchdog/handler_mode.hpp"
#include "ofwatchdog/log.hpp"
#include "ofwatchdog/request_job.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::FakeExchange;
using ofwatchdog::testing::make_request;
using ofwatchdog::testing::ModeFixture;

namespace {

// One exchange and a registry for the jobs under test.
struct Harness : ModeFixture {
  Harness() { exchange = std::make_shared<FakeExchange>(loop.get(), make_request("GET", "/")); }
  ~Harness() { exchange->close(); }

  std::shared_ptr<FakeExchange> exchange;
  std::shared_ptr<JobRegistry> registry = std::make_shared<JobRegistry>();
};

// A job that records its destruction and lets the test drive its lifetime.
class ProbeJob final : public RequestJob {
public:
  ProbeJob(Harness& h, bool& destroyed)
      : RequestJob(h.context, h.exchange, h.registry), destroyed_(destroyed) {}
  ~ProbeJob() override { destroyed_ = true; }

  void on_body(std::string_view) override {}
  void on_body_end() override {}
  void on_cancel(CancelReason) override { finish_job(); }
  void shut_down() override { finish_job(); }

  using RequestJob::callback_done;
  using RequestJob::close_handle;
  using RequestJob::expect_callback;
  using RequestJob::finish_job;
  using RequestJob::job_finished;

  uv_timer_t timer{};

private:
  bool& destroyed_;
};

} // namespace

TEST_CASE("request job: destroyed on the loop's next turn, not inside finish_job", "[job]") {
  Harness h;
  bool destroyed = false;
  auto* job = new ProbeJob(h, destroyed);
  job->finish_job();
  job->finish_job(); // a second call does nothing
  CHECK_FALSE(destroyed);
  CHECK(job->job_finished());
  CHECK(h.registry->size() == 1);
  h.loop.run();
  CHECK(destroyed);
  CHECK(h.registry->empty());
}

TEST_CASE("request job: outlives the callbacks it waits for", "[job]") {
  Harness h;
  bool destroyed = false;
  auto* job = new ProbeJob(h, destroyed);
  job->expect_callback();
  job->finish_job();
  h.loop.run();
  CHECK_FALSE(destroyed); // still waiting
  job->callback_done();
  CHECK_FALSE(destroyed); // never inside the call
  h.loop.run();
  CHECK(destroyed);
}

TEST_CASE("request job: a handle of its own closes before the job goes", "[job]") {
  Harness h;
  bool destroyed = false;
  auto* job = new ProbeJob(h, destroyed);
  uv_timer_init(h.loop.get(), &job->timer);
  job->close_handle(reinterpret_cast<uv_handle_t*>(&job->timer));
  job->finish_job();
  h.loop.run(); // ASan sees a close callback that touched a freed job
  CHECK(destroyed);
}

TEST_CASE("request job: stop_all ends every job, and done follows the last", "[job]") {
  Harness h;
  bool first = false;
  bool second = false;
  new ProbeJob(h, first);
  new ProbeJob(h, second);
  bool done = false;
  h.registry->stop_all([&] { done = true; });
  CHECK_FALSE(done);
  h.loop.run_until([&] { return done; });
  CHECK(first);
  CHECK(second);
}

namespace {

// Echoes the body whole; serve_with owns it.
class Echo final : public ExchangeHandler {
public:
  Echo(std::shared_ptr<Exchange> exchange, bool& destroyed)
      : exchange_(std::move(exchange)), destroyed_(destroyed) {
    exchange_->set_handler(this);
  }
  ~Echo() override { destroyed_ = true; }
  void on_body(std::string_view data) override { body_ += data; }
  void on_body_end() override { send_whole_response(*exchange_, 200, {}, body_); }
  void on_cancel(CancelReason) override {}

private:
  std::shared_ptr<Exchange> exchange_;
  bool& destroyed_;
  std::string body_;
};

} // namespace

TEST_CASE("serve_with: the handler goes once its exchange has ended", "[job]") {
  Harness h;
  h.exchange->set_body("hello");
  bool destroyed = false;
  serve_with<Echo>(h.exchange, destroyed);
  h.loop.run_until([&] { return destroyed; });
  CHECK(h.exchange->finished);
  CHECK(h.exchange->body == "hello");
}

TEST_CASE("serve_with: a cancelled handler goes too", "[job]") {
  Harness h;
  h.exchange->set_body("part");
  h.exchange->hold_body_open();
  bool destroyed = false;
  serve_with<Echo>(h.exchange, destroyed);
  h.exchange->cancel(CancelReason::client_closed);
  CHECK_FALSE(destroyed); // never inside the cancellation
  h.loop.run_until([&] { return destroyed; });
}
