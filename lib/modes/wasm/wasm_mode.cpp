#include "modes/wasm/wasm_mode.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "log/format.hpp"
#include "modes/body_limit.hpp"
#include "modes/deadline_exchange.hpp"
#include "modes/exec_timeout.hpp"
#include "modes/wasm/scale_endpoints.hpp"
#include "modes/wasm/wasm_metrics.hpp"
#include "modes/wasm/wasm_request.hpp"
#include "modes/wasm/wasm_settings.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "wasi/host.hpp"
#include "wasm/compile_module.hpp"
#include "wasm/compiled_module.hpp"
#include "wasm/guest_thread.hpp"
#include "wasm/wasi_signatures.hpp"

namespace ofwatchdog {

namespace {

using modes::WasmSettings;

constexpr std::chrono::microseconds kSpin{200};

class WasmMode final : public ModeStrategy {
public:
  int start(ModeContext& context) override {
    context_ = context;
    // A client that resets its connection must not kill the watchdog mid-write.
    std::signal(SIGPIPE, SIG_IGN);
    auto read = modes::read_wasm_settings(*context.config);
    if (auto* error = std::get_if<ConfigError>(&read)) {
      context.log->info(error->message);
      return 1;
    }
    settings_ = std::get<WasmSettings>(read);
    if (!load_module())
      return 1;

    std::string pattern = context.config->tmpdir + "/ofwatchdog-wasm-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      context.log->info(fmt::format("wasm: cannot create a scratch directory in {}: {}",
                                    context.config->tmpdir, std::strerror(errno)));
      return 1;
    }
    setup_.settings = &settings_;
    setup_.module = module_.get();
    setup_.content_type = context.config->content_type;
    setup_.log_buffer_size = context.config->log_buffer_size;
    setup_.scratch_root = pattern;
    setup_.write_debug = settings_.write_debug;

    WorkerPoolOptions options;
    options.threads = settings_.instances;
    // The mode counts its queue itself (W7: wasm_queue may be 0); the pool never refuses.
    options.queue_limit = settings_.queue + modes::kMaxWasmInstances + 1;
    options.on_thread_exit = [] { modes::release_wasm_worker(); };
    // With a CPU to spare, a worker and the loop poll briefly for each other instead of paying
    // two wake-ups per request (see WorkerPoolOptions::spin); on one CPU a spinner would only
    // delay the thread it waits for.
    if (modes::usable_cpus() >= 2)
      options.spin = kSpin;
    options.start_thread = [](std::function<void()> body) {
      auto thread = std::make_shared<wasm::GuestThread>(std::move(body));
      return std::function<void()>([thread] { thread->join(); });
    };
    pool_ = make_worker_pool(context.loop, *context.log, options);
    return 0;
  }

  void handle(std::shared_ptr<Exchange> exchange) override {
    if (settings_.scale_endpoints == modes::ScaleEndpoints::main_port &&
        modes::is_scale_path(exchange->request().path)) {
      modes::serve_scale_endpoint(exchange, scale_target(), *context_.log);
      return;
    }
    WorkerPoolStats load = pool_->stats();
    if (load.busy + load.queued >= load.threads + settings_.queue) {
      metrics_.count_refused();
      modes::send_refusal(*exchange, 429,
                          "Too many requests: every wasm instance is busy and the queue is full",
                          {{"Retry-After", "1"}});
      return;
    }
    const Config& config = *context_.config;
    Duration timeout =
        modes::effective_exec_timeout(config.exec_timeout, exchange->request().header("X-Timeout"));
    auto wrapped = std::make_shared<modes::DeadlineExchange>(std::move(exchange), timeout,
                                                             *context_.log, config.log_callid);
    std::string limit = go_duration(timeout);
    wrapped->set_timeout_answer(fmt::format("wasm function exceeded exec_timeout: {}\n", limit),
                                fmt::format("Function was killed by ExecTimeout: {}", limit));
    auto queued_at = std::chrono::steady_clock::now();
    auto job = [this, queued_at](WorkContext& work) {
      metrics_.observe_wait(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - queued_at).count());
      modes::run_wasm_request(setup_, work);
    };
    if (!pool_->submit(wrapped, std::move(job))) {
      // Stopping: the drain has ended, so no request should reach here; answer it anyway.
      wrapped->send_head({503, {{"Content-Type", "text/plain; charset=utf-8"}}, 0});
      wrapped->finish();
    }
  }

  void append_metrics(std::string& text) const override {
    if (pool_)
      metrics_.append(text, pool_->stats());
  }

  bool handle_control(const std::shared_ptr<Exchange>& exchange) override {
    if (!modes::is_scale_path(exchange->request().path))
      return false;
    if (settings_.scale_endpoints == modes::ScaleEndpoints::off || !pool_)
      return false;
    modes::serve_scale_endpoint(exchange, scale_target(), *context_.log);
    return true;
  }

  void stop(std::function<void()> done) override {
    if (!pool_) {
      done();
      return;
    }
    pool_->stop([this, done = std::move(done)] {
      std::error_code code;
      std::filesystem::remove_all(setup_.scratch_root, code);
      done();
    });
  }

private:
  modes::ScaleTarget scale_target() {
    return {[this] {
              WorkerPoolStats load = pool_->stats();
              return modes::ScaleStatus{settings_.module_name, load.threads,
                                        load.threads > load.busy ? load.threads - load.busy : 0};
            },
            [this](unsigned replicas) { pool_->set_threads(replicas); }};
  }

  bool load_module() {
    Logger& log = *context_.log;
    wasm::CompileResult compiled =
        wasm::compile_module_file(settings_.module_path, settings_.cache_dir);
    std::string object = compiled.object_path;
    std::string how = compiled.from_cache
                          ? "from the cache"
                          : fmt::format("compiled in {:.2f}s", compiled.seconds);
    if (compiled.error) {
      // A module that could not be read has no sha256 either; only a toolchain failure may be
      // made up for by an object compiled elsewhere.
      bool invalid = compiled.invalid_module || compiled.sha256.empty();
      object = invalid ? std::string()
                       : wasm::find_compiled_module(settings_.cache_dir, compiled.sha256);
      if (object.empty()) {
        log.info(fmt::format("wasm: {}", *compiled.error));
        if (!invalid)
          log.info(fmt::format(
              "wasm: no compiled module for {} in {}: precompile it where a C compiler and "
              "wasm2c are installed, e.g. in the image build: of-watchdog wasm-compile {} "
              "--cache {}",
              settings_.module_path, settings_.cache_dir, settings_.module_path,
              settings_.cache_dir));
        return false;
      }
      how = "precompiled, from the cache";
    }
    wasm::LoadResult loaded = wasm::CompiledModule::load(object, compiled.sha256);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      log.info(fmt::format("wasm: {}: cannot load {}: {}", settings_.module_path, object, *error));
      return false;
    }
    module_ = std::move(std::get<std::unique_ptr<wasm::CompiledModule>>(loaded));
    log.info(fmt::format("wasm module {} sha256 {}: aot engine ({}); {} instances, queue {}, "
                         "memory limit {} bytes",
                         settings_.module_path, compiled.sha256, how, settings_.instances,
                         settings_.queue, settings_.max_memory));
    log_unprovided_imports(compiled.wasi_imports);
    return true;
  }

  // W1: the module links, and each of these calls answers ENOSYS; said once, here.
  void log_unprovided_imports(const std::vector<wasi::Function>& imports) {
    std::set<std::string_view> names;
    for (wasi::Function function : imports)
      if (!wasi::implements(function))
        names.insert(wasm::wasi_signatures()[static_cast<std::size_t>(function)].name);
    if (names.empty())
      return;
    context_.log->info(fmt::format(
        "wasm module {} imports WASI functions this host does not provide (each call answers "
        "ENOSYS): {}",
        settings_.module_path, fmt::join(names, ", ")));
  }

  WasmSettings settings_;
  modes::WasmRequestSetup setup_;
  std::unique_ptr<wasm::CompiledModule> module_;
  std::unique_ptr<WorkerPool> pool_;
  modes::WasmMetrics metrics_;
};

} // namespace

std::optional<ConfigError> check_wasm_variables(const VariableLookup& variables, Config& config) {
  auto read = modes::read_wasm_settings(variables, config);
  if (auto* error = std::get_if<ConfigError>(&read))
    return *error;
  return std::nullopt;
}

std::unique_ptr<ModeStrategy> make_wasm_mode() {
  return std::make_unique<WasmMode>();
}

} // namespace ofwatchdog
