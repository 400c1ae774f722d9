// The ModeStrategy behind make_function_mode and make_streaming_function_mode: every request is
// wrapped for the exec deadline and the access line, refused (413, 429) before it waits when it
// must be, and run as a job of the worker pool that mode=wasm uses too.
#include <chrono>
#include <exception>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "functions/function_settings.hpp"
#include "functions/streaming_call.hpp"
#include "functions/whole_body_call.hpp"
#include "modes/body_limit.hpp"
#include "modes/in_process_start.hpp"
#include "modes/wasm/wasm_settings.hpp"
#include "ofwatchdog/function.hpp"

namespace ofwatchdog {

namespace {

using functions::CallSetup;
using functions::FunctionSettings;

// With a CPU to spare, a worker and the loop poll briefly for each other instead of paying two
// wake-ups per request (WorkerPoolOptions::spin); on one CPU a spinner would only delay the
// thread it waits for.
constexpr std::chrono::microseconds kSpin{200};

// A hook that throws must not end the worker thread (nor the process): it is logged instead.
std::function<void()> guarded_hook(std::function<void()> hook, const char* which) {
  if (!hook)
    return nullptr;
  return [hook = std::move(hook), which] {
    try {
      hook();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "function %s hook threw: %s\n", which, e.what());
    } catch (...) {
      std::fprintf(stderr, "function %s hook threw\n", which);
    }
  };
}

// Serves a whole-body function (WholeBodyCall: the body read on the loop, the function a plain
// task of the pool) or a streaming one (a job of the pool bound to the exchange: channels both
// ways, StreamingCallImpl).
class FunctionMode final : public ModeStrategy {
public:
  FunctionMode(FunctionFactory factory, FunctionOptions options)
      : whole_factory_(std::move(factory)), options_(std::move(options)) {}
  FunctionMode(StreamingFunctionFactory factory, FunctionOptions options)
      : streaming_factory_(std::move(factory)), options_(std::move(options)) {}

  int start(ModeContext& context) override {
    context_ = context;
    auto read = functions::read_function_settings(*context.config, options_);
    if (auto* error = std::get_if<ConfigError>(&read)) {
      context.log->info("Error loading config: " + error->message);
      return error->exit_code;
    }
    settings_ = std::get<FunctionSettings>(read);
    if (!make_function())
      return 1;

    WorkerPoolOptions pool;
    pool.threads = settings_.threads;
    // The mode counts its queue itself (429 before the pool is asked); the pool never refuses.
    pool.queue_limit = settings_.queue + settings_.threads + 1;
    pool.on_thread_start = guarded_hook(options_.on_thread_start, "thread start");
    pool.on_thread_exit = guarded_hook(options_.on_thread_stop, "thread stop");
    if (modes::usable_cpus() >= 2)
      pool.spin = kSpin;
    pool_ = make_worker_pool(context.loop, *context.log, pool);
    return 0;
  }

  void handle(std::shared_ptr<Exchange> exchange) override {
    std::optional<modes::InProcessStart> started = modes::start_in_process(exchange, context_);
    if (!started)
      return;
    std::shared_ptr<modes::DeadlineExchange> wrapped = std::move(started->exchange);
    WorkerPoolStats load = pool_->stats();
    if (load.busy + load.queued >= load.threads + settings_.queue) {
      refuse_busy(*wrapped);
      return;
    }
    CallSetup setup = CallSetup::starting_now(started->timeout, *context_.config);
    if (whole_function_) {
      auto call = std::make_shared<functions::WholeBodyCall>(
          std::move(wrapped), whole_function_, *pool_, setup, *context_.log,
          [this](Exchange& refused) { refuse_busy(refused); },
          [this](functions::WholeBodyCall& ended) { forget(ended); });
      calls_.emplace(call.get(), call);
      call->start();
      return;
    }
    auto job = [this, setup](WorkContext& work) {
      functions::StreamingCallImpl call(work, setup);
      try {
        streaming_function_(call);
      } catch (const std::exception& e) {
        call.fail(e.what());
      } catch (...) {
        call.fail("an exception that is not a std::exception");
      }
    };
    if (!pool_->submit(wrapped, std::move(job))) {
      // Stopping: the drain has ended, so no request should reach here; answer it anyway.
      modes::send_refusal(*wrapped, 503, "The function is stopping");
    }
  }

  void append_metrics(std::string& text) const override {
    if (!pool_)
      return;
    WorkerPoolStats load = pool_->stats();
    text += "# HELP function_threads Worker threads that call the in-process function.\n"
            "# TYPE function_threads gauge\n";
    text += fmt::format("function_threads {}\n", load.threads);
    text += "# HELP function_busy_threads Worker threads calling the function now.\n"
            "# TYPE function_busy_threads gauge\n";
    text += fmt::format("function_busy_threads {}\n", load.busy);
    text += "# HELP function_queued_requests Requests waiting for a worker thread.\n"
            "# TYPE function_queued_requests gauge\n";
    text += fmt::format("function_queued_requests {}\n", load.queued);
    text += "# HELP function_requests_refused_total Requests answered 429 because every "
            "thread was busy and the queue was full.\n"
            "# TYPE function_requests_refused_total counter\n";
    text += fmt::format("function_requests_refused_total {}\n", refused_);
  }

  void stop(std::function<void()> done) override {
    if (!pool_) {
      done();
      return;
    }
    // Whole-body calls still reading end now; running ones are told to stop, and the pool's
    // stop waits for their tasks.
    std::vector<std::shared_ptr<functions::WholeBodyCall>> live;
    for (auto& [key, call] : calls_)
      live.push_back(call);
    for (auto& call : live)
      call->shut_down();
    pool_->stop(std::move(done));
  }

private:
  void forget(functions::WholeBodyCall& call) { calls_.erase(&call); }

  // Every thread is busy and the queue is full.
  void refuse_busy(Exchange& exchange) {
    ++refused_;
    modes::send_refusal(exchange, 429,
                        "Too many requests: every function thread is busy and the queue is full",
                        {{"Retry-After", "1"}});
  }

  // Runs the factory; false (after logging why) when it failed.
  bool make_function() {
    try {
      if (whole_factory_)
        whole_function_ = whole_factory_(*context_.config);
      else
        streaming_function_ = streaming_factory_(*context_.config);
    } catch (const std::exception& e) {
      context_.log->info(fmt::format("Function setup failed: {}", e.what()));
      return false;
    } catch (...) {
      context_.log->info("Function setup failed: an exception that is not a std::exception");
      return false;
    }
    if (!whole_function_ && !streaming_function_) {
      context_.log->info("Function setup failed: the factory returned no function");
      return false;
    }
    return true;
  }

  FunctionFactory whole_factory_;
  StreamingFunctionFactory streaming_factory_;
  FunctionOptions options_;
  FunctionSettings settings_;
  Function whole_function_;
  StreamingFunction streaming_function_;
  std::unordered_map<functions::WholeBodyCall*, std::shared_ptr<functions::WholeBodyCall>> calls_;
  std::unique_ptr<WorkerPool> pool_;
  std::uint64_t refused_ = 0;
};

} // namespace

std::unique_ptr<ModeStrategy> make_streaming_function_mode(StreamingFunctionFactory factory,
                                                           FunctionOptions options) {
  return std::make_unique<FunctionMode>(std::move(factory), std::move(options));
}

std::unique_ptr<ModeStrategy> make_streaming_function_mode(StreamingFunction function,
                                                           FunctionOptions options) {
  return make_streaming_function_mode(
      StreamingFunctionFactory(
          [function = std::move(function)](const Config&) { return function; }),
      std::move(options));
}

std::unique_ptr<ModeStrategy> make_function_mode(FunctionFactory factory, FunctionOptions options) {
  return std::make_unique<FunctionMode>(std::move(factory), std::move(options));
}

std::unique_ptr<ModeStrategy> make_function_mode(Function function, FunctionOptions options) {
  return make_function_mode(
      FunctionFactory([function = std::move(function)](const Config&) { return function; }),
      std::move(options));
}

} // namespace ofwatchdog
