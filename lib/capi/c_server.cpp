// The C ABI's server: configuration from an environment, the handler and its hooks, run and
// stop. The handler is served by make_streaming_function_mode; see ofwatchdog.h.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "capi/c_boundary.hpp"
#include "functions/function_settings.hpp"

namespace {

using ofwatchdog::capi::guarded;

int new_server(std::vector<std::string> environment, ofw_server** out) {
  *out = nullptr;
  ofwatchdog::ConfigResult loaded = ofwatchdog::load_function_config(std::move(environment));
  if (!loaded.ok())
    return OFW_ECONFIG;
  auto server = std::make_unique<ofw_server>();
  server->config = std::move(loaded.config());
  *out = server.release();
  return OFW_OK;
}

// The C handler as a streaming function: its result decides between finish and fail.
ofwatchdog::StreamingFunction c_function(ofw_server& server) {
  return [handler = server.handler, data = server.handler_data](ofwatchdog::StreamingCall& call) {
    ofw_call c(call);
    int result = handler(&c, data);
    if (result != OFW_OK)
      call.fail("the handler returned " + std::to_string(result) + " (" + ofw_result_text(result) +
                ")");
  };
}

} // namespace

extern "C" {

int ofw_abi_version(void) {
  return OFW_ABI_VERSION;
}

const char* ofw_version(void) {
  return ofwatchdog::version();
}

const char* ofw_result_text(int result) {
  switch (result) {
  case OFW_OK:
    return "ok";
  case OFW_EINVAL:
    return "invalid argument";
  case OFW_ESTATE:
    return "not allowed now";
  case OFW_ECANCELLED:
    return "the call is cancelled";
  case OFW_ECONFIG:
    return "invalid configuration";
  case OFW_ENOTFOUND:
    return "not found";
  case OFW_ENOMEM:
    return "out of memory";
  default:
    return result > 0 ? "ok" : "unknown error";
  }
}

int ofw_server_new(const ofw_str* environment, size_t count, ofw_server** out) {
  if (out == nullptr || (environment == nullptr && count != 0))
    return OFW_EINVAL;
  return guarded([&] {
    std::vector<std::string> entries;
    for (size_t i = 0; i < count; ++i) {
      auto entry = ofwatchdog::capi::view(environment[i].data, environment[i].size);
      if (!entry)
        return OFW_EINVAL;
      entries.emplace_back(*entry);
    }
    return new_server(std::move(entries), out);
  });
}

int ofw_server_new_from_environ(ofw_server** out) {
  if (out == nullptr)
    return OFW_EINVAL;
  return guarded([&] { return new_server(ofwatchdog::process_environment(), out); });
}

int ofw_server_set_handler(ofw_server* server, ofw_handler handler, void* user_data) {
  if (server == nullptr || handler == nullptr)
    return OFW_EINVAL;
  if (server->state != ofw_server::State::configured)
    return OFW_ESTATE;
  server->handler = handler;
  server->handler_data = user_data;
  return OFW_OK;
}

int ofw_server_set_setup(ofw_server* server, ofw_setup setup, void* user_data) {
  if (server == nullptr)
    return OFW_EINVAL;
  if (server->state != ofw_server::State::configured)
    return OFW_ESTATE;
  server->setup = setup;
  server->setup_data = user_data;
  return OFW_OK;
}

int ofw_server_set_thread_hooks(ofw_server* server, ofw_thread_hook on_start,
                                ofw_thread_hook on_stop, void* user_data) {
  if (server == nullptr)
    return OFW_EINVAL;
  if (server->state != ofw_server::State::configured)
    return OFW_ESTATE;
  server->on_thread_start = on_start;
  server->on_thread_stop = on_stop;
  server->hook_data = user_data;
  return OFW_OK;
}

int ofw_server_set_threads(ofw_server* server, unsigned threads, long long queue) {
  if (server == nullptr || threads > ofwatchdog::functions::kMaxFunctionThreads ||
      queue > static_cast<long long>(ofwatchdog::functions::kMaxFunctionQueue))
    return OFW_EINVAL;
  if (server->state != ofw_server::State::configured)
    return OFW_ESTATE;
  server->options.threads = threads;
  if (queue >= 0)
    server->options.queue = static_cast<std::size_t>(queue);
  return OFW_OK;
}

int ofw_server_run(ofw_server* server) {
  if (server == nullptr || server->handler == nullptr)
    return OFW_EINVAL;
  if (server->state != ofw_server::State::configured)
    return OFW_ESTATE;
  return guarded([&] {
    server->state = ofw_server::State::running;
    ofwatchdog::FunctionOptions options = server->options;
    if (server->on_thread_start)
      options.on_thread_start = [hook = server->on_thread_start, data = server->hook_data] {
        hook(data);
      };
    if (server->on_thread_stop)
      options.on_thread_stop = [hook = server->on_thread_stop, data = server->hook_data] {
        hook(data);
      };
    ofwatchdog::StreamingFunctionFactory factory = [server](const ofwatchdog::Config&) {
      if (server->setup != nullptr) {
        int result = server->setup(server->setup_data);
        if (result != OFW_OK)
          throw std::runtime_error("the setup callback returned " + std::to_string(result) + " (" +
                                   ofw_result_text(result) + ")");
      }
      return c_function(*server);
    };
    {
      std::lock_guard<std::mutex> lock(server->stop_mutex);
      server->watchdog = std::make_unique<ofwatchdog::Watchdog>(
          server->config, ofwatchdog::make_streaming_function_mode(factory, options));
      if (server->stop_requested)
        server->watchdog->stop();
    }
    int status = server->watchdog->run();
    server->state = ofw_server::State::ran;
    return status;
  });
}

int ofw_server_stop(ofw_server* server) {
  if (server == nullptr)
    return OFW_EINVAL;
  std::lock_guard<std::mutex> lock(server->stop_mutex);
  server->stop_requested = true;
  if (server->watchdog)
    server->watchdog->stop();
  return OFW_OK;
}

void ofw_server_free(ofw_server* server) {
  delete server;
}

} // extern "C"
