// A function written as a function: it gets the request whole on a worker thread, may block,
// and returns the response. The watchdog around it gives it the HTTP server, /_/health,
// /_/ready, metrics, max_inflight, max_body_size, exec_timeout and the graceful drain; it reads
// the same environment variables as of-watchdog (docs/functions.md).
//
//   POST /upper   the body back in upper case
//   GET  /slow    waits until the call is told to stop (exec_timeout or X-Timeout: a 504)
//   GET  /fail    throws: the client gets a 500, the log gets the message
//   anything else a greeting, read once at start-up from $GREETING_FILE when it is set

#include <cctype>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>

#include <ofwatchdog/function.hpp>
#include <ofwatchdog/watchdog.hpp>

using namespace ofwatchdog;

namespace {

// The factory: runs once before the port is bound. A greeting file that cannot be read stops
// start-up with exit 1 and this message.
Function make_function(const Config& config) {
  std::string greeting = "Hello from a function";
  if (auto file = find_variable(config.environment, "GREETING_FILE")) {
    std::ifstream in{std::string(*file)};
    if (!in)
      throw std::runtime_error("cannot read GREETING_FILE " + std::string(*file));
    std::getline(in, greeting);
  }
  return [greeting](const FunctionRequest& request, CallContext& call) -> FunctionResponse {
    if (request.path == "/upper") {
      std::string body = request.body;
      for (char& c : body)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return {200, {{"Content-Type", "text/plain"}}, body};
    }
    if (request.path == "/slow") {
      // Blocks until the watchdog says stop: a timeout, a vanished client or the drain.
      std::mutex mutex;
      std::condition_variable_any stopped;
      std::unique_lock lock(mutex);
      stopped.wait(lock, call.stop_token(), [] { return false; });
      call.log("slow call stopped: " + std::string(cancel_reason_text(*call.stop_reason())));
      return {};
    }
    if (request.path == "/fail")
      throw std::runtime_error("the function failed on purpose");
    std::ostringstream body;
    body << greeting << ": " << request.method << " " << request.path;
    if (auto left = call.time_left())
      body << " (" << std::chrono::duration_cast<std::chrono::milliseconds>(*left).count()
           << " ms left)";
    body << "\n";
    return {200,
            {{"Content-Type", "text/plain"}, {"X-Call-Id", std::string(call.call_id())}},
            body.str()};
  };
}

} // namespace

int main() {
  return serve_function(make_function_mode(FunctionFactory(make_function)));
}
