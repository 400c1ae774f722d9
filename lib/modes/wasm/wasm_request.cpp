#include "modes/wasm/wasm_request.hpp"
#include "util/fixed_decimals.hpp"

#include <atomic>
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "gpu/guest_cuda.hpp"
#include "interp/interpreter_runner.hpp"
#include "modes/wasm/work_stdio.hpp"
#include "process/cgi_env.hpp"
#include "wasi/host.hpp"
#include "wasi/sandbox.hpp"
#include "wasi/sandbox_file.hpp"
#include "wasm/instance_runner.hpp"

namespace ofwatchdog::modes {

namespace {

// What a worker keeps between its requests: the memory slot (in the compiled engine's runner)
// or the interpreter's store, and the sandbox whose scratch layer is this worker's own.
struct WorkerEngine {
  wasm::InstanceRunner runner;
  std::unique_ptr<interp::InterpreterRunner> interpreter; // made on the first interpreted run
  std::unique_ptr<wasi::Sandbox> sandbox;
};

thread_local std::unique_ptr<WorkerEngine> t_engine;
std::atomic<unsigned> g_next_scratch{0};

// The calling worker's engine, made on its first request; nullptr with `error` set when its
// sandbox cannot be opened.
WorkerEngine* worker_engine(const WasmRequestSetup& setup, std::string& error) {
  if (!t_engine) {
    auto engine = std::make_unique<WorkerEngine>();
    wasi::SandboxSetup sandbox;
    sandbox.data_dir = setup.settings->data_dir;
    sandbox.scratch_dir = fmt::format("{}/{}", setup.scratch_root, g_next_scratch++);
    engine->sandbox = wasi::Sandbox::open(sandbox, error);
    if (!engine->sandbox)
      return nullptr;
    t_engine = std::move(engine);
  }
  return t_engine.get();
}

// What a GPU guest's view of the device borrows from its request: its sandbox for
// cuModuleLoad, the request's cancellation for waits on the device, and the log.
gpu::GuestCudaHooks gpu_hooks(const wasi::Sandbox& sandbox, WorkContext& work) {
  gpu::GuestCudaHooks hooks;
  hooks.read_file = [&sandbox](std::string_view path,
                               std::uint64_t limit) -> std::variant<std::string, gpu::CuResult> {
    auto read = wasi::read_sandbox_file(sandbox, path, limit);
    if (auto* bytes = std::get_if<std::string>(&read))
      return std::move(*bytes);
    // What a CUDA program gets for a file it cannot read.
    return std::get<wasi::abi::Errno>(read) == wasi::abi::Errno::fbig ? gpu::cu::invalid_value
                                                                      : gpu::cu::file_not_found;
  };
  hooks.cancelled = [&work] { return work.cancelled(); };
  hooks.log = [&work](std::string_view line) { work.log(fmt::format("wasm: GPU: {}", line)); };
  return hooks;
}

} // namespace

void prepare_wasm_worker(const WasmRequestSetup& setup) {
  std::string error;
  // A failure is reported by the worker's first request, which tries again.
  worker_engine(setup, error);
}

void release_wasm_worker() {
  t_engine.reset();
}

void run_wasm_request(const WasmRequestSetup& setup, const ServingModule& module,
                      WorkContext& work) {
  auto started = std::chrono::steady_clock::now();
  const WasmSettings& settings = *setup.settings;
  std::string error;
  WorkerEngine* engine = worker_engine(setup, error);
  if (engine == nullptr) {
    work.fail(error);
    return;
  }
  if (!engine->sandbox->reset()) {
    work.fail("cannot empty the sandbox's scratch directory");
    return;
  }
  // A worker's memory slot is reserved by its first compiled run; a process that cannot spare
  // the addresses fails this request (logged) and goes on serving.
  if (module.compiled && !engine->runner.reserve_slot(error)) {
    work.log(fmt::format("wasm: {}", error));
    work.fail(error);
    return;
  }

  wasi::HostSetup host_setup;
  host_setup.args.push_back(settings.module_name);
  host_setup.args.insert(host_setup.args.end(), settings.args.begin(), settings.args.end());
  host_setup.environ = process::build_cgi_environment(settings.passed_environment, work.request());
  WorkStdio stdio(work, setup.content_type, setup.log_buffer_size);

  // Shared with the cancellation hook, which may run after this request is over.
  auto control = std::make_shared<wasm::RunControl>();
  work.on_cancel([control] { control->interrupt(); });
  if (setup.cgi_headers)
    stdio.read_cgi_head([&control] { control->interrupt(); });
  // A GPU guest's view of the device: its allocations and modules go when it does.
  std::optional<gpu::GuestCuda> cuda;
  if (setup.cuda != nullptr)
    cuda.emplace(*setup.cuda, gpu::GuestCudaLimits{settings.gpu_memory},
                 gpu_hooks(*engine->sandbox, work));
  if (setup.write_debug)
    work.log(fmt::format("Running {} ({} engine, worker {})", settings.module_name, module.engine(),
                         static_cast<const void*>(engine)));
  wasm::RunOutcome outcome;
  {
    wasi::Host host(std::move(host_setup), stdio, *engine->sandbox);
    wasm::RunLimits limits{settings.max_memory};
    if (module.compiled) {
      // Once the compiled module serves, the interpreter's copy of the module goes.
      engine->interpreter.reset();
      outcome = engine->runner.run(*module.compiled, host, limits, control.get(),
                                   cuda ? &*cuda : nullptr);
    } else {
      if (!engine->interpreter)
        engine->interpreter = std::make_unique<interp::InterpreterRunner>();
      outcome = engine->interpreter->run(*module.interpreted, host, limits, control.get(),
                                         cuda ? &*cuda : nullptr);
    }
  }
  stdio.finish_stderr();
  if (work.cancelled())
    return; // a timeout (504 from the loop), a client gone, or the watchdog stopping
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (setup.write_debug)
    work.log(fmt::format("Took {:f} secs", seconds));
  // A bad CGI head was answered (502) when it came, and the run stopped for it: its failure
  // is that stop, not the function's.
  if (stdio.answered())
    return;
  if (outcome.succeeded()) {
    if (stdio.refuse_unfinished_head() || stdio.committed())
      return;
    std::string& held = stdio.held();
    ResponseHead head = stdio.response_head();
    head.headers.push_back({"X-Duration-Seconds", util::fixed(seconds, 6)});
    head.content_length = held.size();
    work.send_head(std::move(head));
    work.send_body(held);
    return;
  }
  std::string text = outcome.error_text();
  // Logged as the fork modes log a function's failure; once the 200 was committed, the client
  // sees only the abort.
  work.log(stdio.committed() ? fmt::format("{} (after the response began)", text) : text);
  work.fail(text);
}

} // namespace ofwatchdog::modes
