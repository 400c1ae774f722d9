// A mode of one's own, by name, built on RequestJob: `mode=reverse` answers each request with
// its body reversed, after the delay the request asks for. The watchdog's own services come
// from RequestJob in a few lines: the 413 for `max_body_size`, the exec deadline (here a 504),
// the access line, and the drain on SIGTERM (the registry). The mode also checks a variable of
// its own, `reverse_max_delay_ms`, which stops start-up with a message naming it when it is not
// a number.
//
//   POST /anything          the body, reversed
//   X-Delay-Ms: <n>         waits n ms first (at most reverse_max_delay_ms, default 10000)
//
// It also offers every built-in mode behind a wrapper exchange, as `mode=tagged-<name>`
// (tagged_mode.hpp).

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include <ofwatchdog/mode_registry.hpp>
#include <ofwatchdog/request_job.hpp>
#include <ofwatchdog/watchdog.hpp>

#include "tagged_mode.hpp"

extern char** environ;

namespace {

using namespace ofwatchdog;

std::optional<long> parse_ms(std::string_view text) {
  long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0)
    return std::nullopt;
  return value;
}

// One request: read the body, wait, answer. The mode's registry owns it: it says when it is over
// (`finish_job`), and RequestJob destroys it once its delay timer has closed.
class ReverseJob final : public RequestJob {
public:
  ReverseJob(const ModeContext& context, std::shared_ptr<Exchange> exchange,
             std::shared_ptr<JobRegistry> registry, long max_delay_ms)
      : RequestJob(context, std::move(exchange), std::move(registry)), max_delay_ms_(max_delay_ms) {
  }

  void run() {
    if (refuse_declared_body_over_limit())
      return; // on_refused has answered and ended the job
    start_deadline();
    exchange_->set_handler(this);
  }

  void on_body(std::string_view data) override {
    // A chunked body is checked as it grows.
    body_.append(data);
    if (body_over_limit(body_.size()))
      on_refused(413, body_too_large_text());
  }

  void on_body_end() override {
    const std::string* asked = exchange_->request().header("X-Delay-Ms");
    long delay = asked ? parse_ms(*asked).value_or(0) : 0;
    uv_timer_init(context_.loop, &delay_);
    delay_.data = this;
    delay_open_ = true;
    uv_timer_start(
        &delay_, [](uv_timer_t* t) { static_cast<ReverseJob*>(t->data)->answer(); },
        static_cast<std::uint64_t>(std::min(delay, max_delay_ms_)), 0);
  }

  void on_deadline() override {
    // Past exec_timeout (or X-Timeout): the watchdog's 504.
    log().info("Reverse mode: exec_timeout passed before the answer");
    if (exchange_->head_sent()) {
      exchange_->abort();
    } else {
      exchange_->send_head({504, {{"X-OpenFaaS-Internal", "of-watchdog"}}, 0});
      exchange_->finish();
    }
    log_line(504, 0);
    end();
  }

  void on_refused(int status, const std::string& text) override {
    RequestJob::on_refused(status, text); // answers and logs
    end();
  }

  void on_cancel(CancelReason) override { end(); }
  void shut_down() override {
    if (!exchange_->done())
      exchange_->abort();
    end();
  }

private:
  void answer() {
    std::string out(body_.rbegin(), body_.rend());
    exchange_->send_head({200, {{"Content-Type", "text/plain"}}, out.size()});
    exchange_->send_body(out);
    exchange_->finish();
    log_line(200, out.size());
    end();
  }

  void log_line(int status, std::size_t bytes) {
    std::string code = std::to_string(status);
    AccessRecord record;
    record.status = code;
    record.bytes = static_cast<std::int64_t>(bytes);
    record.seconds = seconds_since_start();
    log_access(record);
  }

  // Ends the request once. The job is destroyed after its delay timer has closed, and never
  // inside this call, so callers may go on using it until they return.
  void end() {
    if (job_finished())
      return;
    stop_deadline();
    if (exchange_ && !exchange_->done())
      exchange_->set_handler(nullptr);
    if (delay_open_)
      close_handle(reinterpret_cast<uv_handle_t*>(&delay_));
    finish_job();
  }

  long max_delay_ms_;
  std::string body_;
  uv_timer_t delay_{};
  bool delay_open_ = false;
};

class ReverseMode final : public ModeStrategy {
public:
  explicit ReverseMode(long max_delay_ms) : max_delay_ms_(max_delay_ms) {}

  void handle(std::shared_ptr<Exchange> exchange) override {
    // The registry owns the job from here on; it ends with finish_job.
    (new ReverseJob(context_, std::move(exchange), registry_, max_delay_ms_))->run();
  }
  void stop(std::function<void()> done) override { registry_->stop_all(std::move(done)); }

private:
  long max_delay_ms_;
  std::shared_ptr<JobRegistry> registry_ = std::make_shared<JobRegistry>();
};

ModeDescriptor reverse_mode() {
  ModeDescriptor mode;
  mode.name = "reverse";
  mode.runs_fprocess = false;
  mode.configure = [](const VariableLookup& variables, Config&) -> std::optional<ConfigError> {
    std::optional<std::string_view> max = variables("reverse_max_delay_ms");
    if (max && !parse_ms(*max))
      return ConfigError{"reverse_max_delay_ms",
                         "reverse_max_delay_ms must be a whole number of milliseconds", 1};
    return std::nullopt;
  };
  mode.create = [](const Config& config) -> ModeCreation {
    long max_delay = 10000;
    for (const std::string& entry : config.environment) {
      if (entry.rfind("reverse_max_delay_ms=", 0) == 0)
        max_delay = parse_ms(std::string_view(entry).substr(21)).value_or(max_delay);
    }
    return std::make_unique<ReverseMode>(max_delay);
  };
  return mode;
}

} // namespace

int main() {
  ModeRegistry modes = ModeRegistry::builtin();
  for (const std::string& name : ModeRegistry::builtin().names())
    modes.add(tagged(*modes.find(name)));
  modes.add(reverse_mode());
  std::vector<std::string> environment{"mode=reverse"}; // the process's own mode= wins
  for (char** e = environ; *e != nullptr; ++e)
    environment.emplace_back(*e);
  ConfigResult loaded = load_config(environment, modes);
  if (!loaded.ok()) {
    std::fprintf(stderr, "Error loading config: %s\n", loaded.error().message.c_str());
    return loaded.error().exit_code;
  }
  Watchdog watchdog(loaded.config(), modes);
  return watchdog.run();
}
