#include "modes/wasm/wasm_mode.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "interp/interpreted_module.hpp"
#include "log/format.hpp"
#include "modes/body_limit.hpp"
#include "modes/deadline_exchange.hpp"
#include "modes/exec_timeout.hpp"
#include "modes/wasm/background_compile.hpp"
#include "modes/wasm/instance_capacity.hpp"
#include "modes/wasm/scale_endpoints.hpp"
#include "modes/wasm/wasm_metrics.hpp"
#include "modes/wasm/wasm_request.hpp"
#include "modes/wasm/wasm_settings.hpp"
#include "ofwatchdog/worker_pool.hpp"
#include "wasi/host.hpp"
#include "wasm/bundled_modules.hpp"
#include "wasm/compile_module.hpp"
#include "wasm/compiled_module.hpp"
#include "wasm/guest_thread.hpp"
#include "wasm/module_check.hpp"
#include "wasm/sha256.hpp"
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
    // Measured before anything of the pool exists, so that what is in use is the rest of the
    // watchdog; every later resize is checked against it.
    // Only the compiled engine holds a memory slot per worker; auto may move to it later.
    bool slots = settings_.engine != modes::WasmEngine::interpreter;
    capacity_ = modes::instance_capacity(
        modes::read_process_limits(), modes::instance_address_bytes(slots, settings_.max_memory));
    if (settings_.instances > capacity_.instances) {
      context.log->info(fmt::format("wasm: wasm_instances={} does not fit in this process: {}",
                                    settings_.instances, capacity_text()));
      return 1;
    }
    if (!load_module())
      return 1;

    std::string pattern = context.config->tmpdir + "/ofwatchdog-wasm-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      context.log->info(fmt::format("wasm: cannot create a scratch directory in {}: {}",
                                    context.config->tmpdir, std::strerror(errno)));
      return 1;
    }
    setup_.settings = &settings_;
    setup_.content_type = context.config->content_type;
    setup_.log_buffer_size = context.config->log_buffer_size;
    setup_.scratch_root = pattern;
    setup_.write_debug = settings_.write_debug;
    setup_.cgi_headers = context.config->cgi_headers;
    setup_.cuda = cuda_.get();

    WorkerPoolOptions options;
    options.threads = settings_.instances;
    // The mode counts its queue itself (wasm-queue: wasm_queue may be 0); the pool never refuses.
    options.queue_limit = settings_.queue + modes::kMaxWasmInstances + 1;
    options.on_thread_start = [this] { modes::prepare_wasm_worker(setup_); };
    options.on_thread_exit = [] { modes::release_wasm_worker(); };
    // With a CPU to spare, a worker and the loop poll briefly for each other instead of paying
    // two wake-ups per request (see WorkerPoolOptions::spin); on one CPU a spinner would only
    // delay the thread it waits for.
    if (modes::usable_cpus() >= 2)
      options.spin = kSpin;
    options.start_thread = [](std::function<void()> body) {
      std::string error;
      std::shared_ptr<wasm::GuestThread> thread = wasm::GuestThread::start(std::move(body), error);
      if (!thread)
        throw std::runtime_error(error); // the pool's way to hear it: it logs and stays put
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
    auto job = [this, queued_at, module = serving_](WorkContext& work) {
      metrics_.observe_wait(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - queued_at).count());
      modes::run_wasm_request(setup_, *module, work);
    };
    if (!pool_->submit(wrapped, std::move(job))) {
      // Stopping: the drain has ended, so no request should reach here; answer it anyway.
      wrapped->send_head({503, {{"Content-Type", "text/plain; charset=utf-8"}}, 0});
      wrapped->finish();
    }
  }

  void append_metrics(std::string& text) const override {
    if (pool_)
      metrics_.append(text, pool_->stats(), serving_->engine());
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
    if (compile_) {
      // A compile still running is killed; one finished is only closed.
      compile_->close([this, done = std::move(done)]() mutable {
        compile_.reset();
        stop_pool(std::move(done));
      });
      return;
    }
    stop_pool(std::move(done));
  }

private:
  void stop_pool(std::function<void()> done) {
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

  modes::ScaleTarget scale_target() {
    return {[this] {
              WorkerPoolStats load = pool_->stats();
              return modes::ScaleStatus{settings_.module_name, load.threads,
                                        load.threads > load.busy ? load.threads - load.busy : 0};
            },
            [this](unsigned replicas) -> std::optional<std::string> {
              if (replicas > capacity_.instances)
                return fmt::format("{} instances do not fit in this process: {}", replicas,
                                   capacity_text());
              pool_->set_threads(replicas);
              return std::nullopt;
            }};
  }

  std::string capacity_text() const {
    return fmt::format("{} leaves room for at most {}", capacity_.bound, capacity_.instances);
  }

  bool load_module() {
    Logger& log = *context_.log;
    std::vector<std::uint8_t> bytes;
    if (auto error = wasm::read_module_file(settings_.module_path, bytes)) {
      log.info("wasm: " + *error);
      return false;
    }
    // Modules are named by their SHA-256, from libcrypto, which dynamic builds load now.
    if (std::string error; !wasm::sha256_available(&error)) {
      log.info(fmt::format("wasm: mode=wasm names modules by their SHA-256: {}", error));
      return false;
    }
    // wasm-module-check, for both engines alike.
    auto inspected = wasm::inspect_module(bytes);
    if (auto* error = std::get_if<std::string>(&inspected)) {
      log.info(fmt::format("wasm: {}: invalid module: {}", settings_.module_path, *error));
      return false;
    }
    const wasm::InspectedModule& module = std::get<wasm::InspectedModule>(inspected);
    // A GPU guest (docs/wasm-gpu.md): the driver is loaded once, now, and says what it found.
    if (module.uses_gpu() && !cuda_) {
      cuda_ = gpu::CudaDriver::open(settings_.cuda_driver);
      log.info(fmt::format("wasm: {}", cuda_->status_line()));
    }
    bool loaded = false;
    // Compiled code linked into this program (wasm-compile --bundle) is the aot engine with
    // nothing to load: it serves unless the interpreter is asked for.
    if (ofw_wasm_entry_v1 entry = wasm::bundled_entry(module.sha256);
        entry != nullptr && settings_.engine != modes::WasmEngine::interpreter) {
      loaded = load_bundled(entry, module.sha256);
      if (loaded)
        log_unprovided_imports(module.imports);
      return loaded;
    }
    switch (settings_.engine) {
    case modes::WasmEngine::aot:
      loaded = load_compiled_now();
      break;
    case modes::WasmEngine::interpreter:
      loaded = load_interpreted(bytes, module, "interpreter engine");
      break;
    case modes::WasmEngine::automatic: {
      if (!wasm::CompiledModule::loadable()) {
        loaded = load_interpreted(bytes, module,
                                  "interpreter engine, as this static build loads no compiled "
                                  "modules");
        break;
      }
      // wasm-engines: a compiled module already in the cache serves at once; otherwise the
      // interpreter does while the compile runs in the background.
      std::string object = wasm::find_compiled_module(settings_.cache_dir, module.sha256);
      if (!object.empty() && load_compiled(object, module.sha256, "from the cache")) {
        loaded = true;
        break;
      }
      loaded =
          load_interpreted(bytes, module, "interpreter engine, while the aot engine compiles it");
      if (loaded)
        compile_ = std::make_unique<modes::BackgroundCompile>(
            context_.loop, settings_.module_path, settings_.cache_dir,
            [this](wasm::CompileResult result) { on_background_compile(std::move(result)); });
      break;
    }
    }
    if (loaded)
      log_unprovided_imports(module.imports);
    return loaded;
  }

  void log_serving(std::string_view sha256, std::string_view how) {
    context_.log->info(fmt::format("wasm module {} sha256 {}: {}; {} instances, queue {}, "
                                   "memory limit {} bytes",
                                   settings_.module_path, sha256, how, settings_.instances,
                                   settings_.queue, settings_.max_memory));
  }

  bool load_interpreted(const std::vector<std::uint8_t>& bytes, const wasm::InspectedModule& module,
                        std::string_view how) {
    auto started = std::chrono::steady_clock::now();
    auto loaded = interp::InterpretedModule::load(bytes.data(), bytes.size(),
                                                  {module.sha256, module.imports});
    if (auto* error = std::get_if<std::string>(&loaded)) {
      context_.log->info(fmt::format("wasm: {}: {}", settings_.module_path, *error));
      return false;
    }
    auto serving = std::make_shared<modes::ServingModule>();
    serving->interpreted = std::move(std::get<std::unique_ptr<interp::InterpretedModule>>(loaded));
    serving_ = std::move(serving);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    log_serving(module.sha256, fmt::format("{} (loaded in {:.1f} ms)", how, ms));
    return true;
  }

  bool load_compiled(const std::string& object, std::string_view sha256, std::string_view how) {
    wasm::LoadResult loaded = wasm::CompiledModule::load(object, sha256);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      context_.log->info(
          fmt::format("wasm: {}: cannot load {}: {}", settings_.module_path, object, *error));
      return false;
    }
    auto serving = std::make_shared<modes::ServingModule>();
    serving->compiled = std::move(std::get<std::unique_ptr<wasm::CompiledModule>>(loaded));
    serving_ = std::move(serving);
    log_serving(sha256, fmt::format("aot engine ({})", how));
    return true;
  }

  bool load_bundled(ofw_wasm_entry_v1 entry, std::string_view sha256) {
    wasm::LoadResult loaded = wasm::CompiledModule::from_entry(entry, sha256);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      context_.log->info(fmt::format("wasm: {}: the module bundled into this program cannot "
                                     "serve: {}",
                                     settings_.module_path, *error));
      return false;
    }
    auto serving = std::make_shared<modes::ServingModule>();
    serving->compiled = std::move(std::get<std::unique_ptr<wasm::CompiledModule>>(loaded));
    serving_ = std::move(serving);
    log_serving(sha256, "aot engine (bundled into this program)");
    return true;
  }

  // wasm_engine=aot: compiles now when the cache has no object for this toolchain.
  bool load_compiled_now() {
    Logger& log = *context_.log;
    wasm::CompileResult compiled =
        wasm::compile_module_file(settings_.module_path, settings_.cache_dir);
    std::string object = compiled.object_path;
    std::string how = compiled.from_cache ? "from the cache"
                                          : fmt::format("compiled in {:.2f}s", compiled.seconds);
    if (compiled.error) {
      // Only a toolchain failure may be made up for by an object compiled elsewhere.
      object = compiled.sha256.empty()
                   ? std::string()
                   : wasm::find_compiled_module(settings_.cache_dir, compiled.sha256);
      if (object.empty()) {
        log.info(fmt::format("wasm: {}", *compiled.error));
        log.info(fmt::format(
            "wasm: no compiled module for {} in {}: precompile it where a C compiler and "
            "wasm2c are installed, e.g. in the image build: of-watchdog wasm-compile {} "
            "--cache {}, or serve it with wasm_engine=interpreter",
            settings_.module_path, settings_.cache_dir, settings_.module_path,
            settings_.cache_dir));
        return false;
      }
      how = "precompiled, from the cache";
    }
    return load_compiled(object, compiled.sha256, how);
  }

  // Loop thread, under wasm_engine=auto: new requests go to the compiled module from now on;
  // those running or queued finish on the interpreter.
  void on_background_compile(wasm::CompileResult result) {
    Logger& log = *context_.log;
    if (result.error) {
      log.info(fmt::format("wasm: the background compile of {} failed; the interpreter goes on "
                           "serving it: {}",
                           settings_.module_path, *result.error));
      return;
    }
    wasm::LoadResult loaded = wasm::CompiledModule::load(result.object_path, result.sha256);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      log.info(fmt::format("wasm: {}: cannot load {}: {}; the interpreter goes on serving it",
                           settings_.module_path, result.object_path, *error));
      return;
    }
    auto serving = std::make_shared<modes::ServingModule>();
    serving->compiled = std::move(std::get<std::unique_ptr<wasm::CompiledModule>>(loaded));
    serving_ = std::move(serving);
    log.info(fmt::format(
        "wasm module {} sha256 {}: aot engine ready ({}); new requests run on it",
        settings_.module_path, result.sha256,
        result.from_cache ? std::string("from the cache")
                          : fmt::format("compiled in {:.2f}s in the background", result.seconds)));
  }

  // wasm-module-check: the module links, and each of these calls answers ENOSYS; said once, here.
  void log_unprovided_imports(const std::vector<wasm::HostImport>& imports) {
    std::set<std::string_view> names;
    for (wasm::HostImport import : imports)
      if (import.from == wasm::HostImport::From::wasi && !wasi::implements(import.wasi()))
        names.insert(wasm::wasi_signatures()[import.index].name);
    if (names.empty())
      return;
    context_.log->info(fmt::format(
        "wasm module {} imports WASI functions this host does not provide (each call answers "
        "ENOSYS): {}",
        settings_.module_path, fmt::join(names, ", ")));
  }

  WasmSettings settings_;
  // The CUDA driver, loaded when the module is a GPU guest; it outlives the workers.
  std::unique_ptr<gpu::CudaDriver> cuda_;
  // The largest pool this process can hold, measured at start-up.
  modes::InstanceCapacity capacity_;
  modes::WasmRequestSetup setup_;
  // The module new requests run; replaced once when auto's background compile is ready.
  std::shared_ptr<const modes::ServingModule> serving_;
  std::unique_ptr<modes::BackgroundCompile> compile_;
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
