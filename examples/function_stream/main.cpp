// A streaming function on worker threads: it reads the body in pieces and writes the answer
// in pieces, blocking while the client is behind (backpressure both ways), with no object
// lifetimes to manage. The same upper-casing echo as examples/embed, in a few lines.
//
//   POST /upper   streams the body back in upper case, in constant memory
//   GET  /slow    reads nothing and waits until told to stop: exec_timeout gives a 504
//   GET  /fail    throws: the client gets a 500, the log gets the message
//   anything else a greeting

#include <cctype>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>

#include <ofwatchdog/function.hpp>
#include <ofwatchdog/watchdog.hpp>

using namespace ofwatchdog;

namespace {

void upper(StreamingCall& call) {
  call.send_head(200, {{"Content-Type", "text/plain"}});
  char buffer[64 * 1024];
  for (WorkRead got; (got = call.read(buffer, sizeof buffer)).status == WorkStatus::ok;) {
    for (std::size_t i = 0; i < got.size; ++i)
      buffer[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buffer[i])));
    if (!call.write({buffer, got.size}))
      return; // the client is gone or the deadline passed
  }
}

void slow(StreamingCall& call) {
  std::mutex mutex;
  std::condition_variable_any stopped;
  std::unique_lock lock(mutex);
  stopped.wait(lock, call.stop_token(), [] { return false; });
  call.log("slow call stopped: " + std::string(cancel_reason_text(*call.stop_reason())));
}

void serve(StreamingCall& call) {
  const Request& request = call.request();
  if (request.path == "/upper")
    return upper(call);
  if (request.path == "/slow")
    return slow(call);
  if (request.path == "/fail")
    throw std::runtime_error("the function failed on purpose");
  std::string body =
      "Hello from a streaming function: " + request.method + " " + request.path + "\n";
  call.send_head(200, {{"Content-Type", "text/plain"}}, body.size());
  call.write(body);
}

} // namespace

int main() {
  return serve_function(make_streaming_function_mode(StreamingFunction(serve)));
}
