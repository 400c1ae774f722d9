#pragma once
// Functions: serve C++ code linked into the program by writing a function, not a mode.
//
// A function may block: it runs on a worker thread of its own while the watchdog's loop does
// all the I/O, and gets the request whole (or, streaming, in pieces with backpressure). The
// watchdog keeps every service of its other modes around it: `max_body_size` (413 before the
// function is called), `exec_timeout` and `X-Timeout` (504), the access line, metrics,
// `max_inflight`, the drain, and an exception turned into a 500. docs/functions.md is the
// tutorial.
//
//   #include <ofwatchdog/function.hpp>
//   #include <ofwatchdog/watchdog.hpp>
//
//   int main() {
//     auto loaded = ofwatchdog::load_config({"mode=inproc"});
//     ofwatchdog::Watchdog watchdog(loaded.config(), ofwatchdog::make_function_mode(
//         [](const ofwatchdog::FunctionRequest& request, ofwatchdog::CallContext&) {
//           return ofwatchdog::FunctionResponse{200, {{"Content-Type", "text/plain"}},
//                                               "hello " + request.body + "\n"};
//         }));
//     return watchdog.run();
//   }
//
// Threads and queue: `FunctionOptions::threads` workers call the function (default: the
// variable `inproc_threads`, else the CPUs the process may use); up to `queue` requests wait
// for a free one (default: `inproc_queue`, else 4 per thread), and beyond that a request gets
// 429 with `Retry-After: 1`. A request whose deadline passes while it waits gets its 504 then.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "ofwatchdog/config.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/export.hpp"
#include "ofwatchdog/mode_strategy.hpp"
#include "ofwatchdog/worker_pool.hpp"

namespace ofwatchdog {

// The request, whole.
struct OFWATCHDOG_API FunctionRequest {
  std::string method;         // as sent, e.g. "POST"
  std::string path;           // percent-decoded, e.g. "/a b"
  std::string raw_query;      // after '?', still encoded; empty when there is none
  std::string target;         // the raw request-target, e.g. "/a%20b?x=1"
  HeaderList headers;         // in arrival order, names as sent
  std::string body;           // the whole body, de-chunked
  std::string remote_address; // the client, "ip:port"

  const std::string* header(std::string_view name) const { return find_header(headers, name); }
};

// The answer. `status` must be 200 to 599 and every header a valid field (a token for a name,
// no CR, LF or NUL in a value); `Content-Length`, `Transfer-Encoding` and `Connection` are the
// watchdog's to set. An answer that breaks these rules becomes a 500, and the log says why.
struct OFWATCHDOG_API FunctionResponse {
  int status = 200;
  HeaderList headers;
  std::string body;
};

// What a call knows besides its request. Used on the call's worker thread.
class OFWATCHDOG_API CallContext {
public:
  virtual ~CallContext() = default;

  // The request's `X-Call-Id`, empty when it has none.
  virtual std::string_view call_id() const = 0;
  // Time left before `exec_timeout` (shortened by `X-Timeout`) ends the call, never negative;
  // nothing when no timeout applies.
  virtual std::optional<Duration> time_left() const = 0;
  // Requested when the call should stop: the deadline passed, the client went away, or the
  // watchdog is shutting down. Whatever the function answers afterwards is dropped; a function
  // that waits on something long should watch it (std::stop_callback, or poll stop_requested).
  virtual std::stop_token stop_token() const = 0;
  // Why it should stop; nothing while it should not.
  virtual std::optional<CancelReason> stop_reason() const = 0;
  // A line in the watchdog's log, written on the loop in order: a streaming call's at once, a
  // whole-body call's when the function returns.
  virtual void log(std::string_view line) = 0;
};

// A streaming call: the request head, the body read in pieces, the response written in pieces.
// Every call blocks only this worker: `read` until body bytes arrive, `write` while the client
// is behind. Returning from the function finishes the response (200 with no headers if
// `send_head` was never called); an exception fails it, as `fail` does.
class OFWATCHDOG_API StreamingCall : public CallContext {
public:
  // The request head (its body is read with `read`).
  virtual const Request& request() const = 0;
  // Up to `capacity` body bytes into `buffer`: `ok` with the size, `end` once the whole body
  // was read, `cancelled` when the call should stop. A body over `max_body_size` ends the call
  // with 413 (if no head was sent) and reads as `cancelled`.
  virtual WorkRead read(char* buffer, std::size_t capacity) = 0;
  // The status and headers, checked as FunctionResponse's are: false (nothing sent) when they
  // break a rule or when a head was already sent. `content_length` nothing: chunked.
  virtual bool send_head(int status, HeaderList headers,
                         std::optional<std::uint64_t> content_length = std::nullopt) = 0;
  // Queues `data` for the client, blocking while it is behind; false when the call should
  // stop (or more than a declared Content-Length would be sent).
  virtual bool write(std::string_view data) = 0;
  // Gives up: a 500 with a fixed text if nothing was sent yet, else the response is cut short.
  // `why` goes to the log.
  virtual void fail(std::string_view why) = 0;
};

using Function = std::function<FunctionResponse(const FunctionRequest&, CallContext&)>;
using StreamingFunction = std::function<void(StreamingCall&)>;
// Run once on the loop thread before the port is bound (to open a pool, load a model, fill a
// cache) and return the function. An exception stops start-up: exit 1, its message logged.
using FunctionFactory = std::function<Function(const Config&)>;
using StreamingFunctionFactory = std::function<StreamingFunction(const Config&)>;

struct OFWATCHDOG_API FunctionOptions {
  unsigned threads = 0;             // 0: `inproc_threads`, else the CPUs the process may use
  std::optional<std::size_t> queue; // nothing: `inproc_queue`, else 4 per thread
  // Run on each worker thread before its first call and after its last (a thread-local
  // connection, an interpreter's thread state). They must not throw.
  std::function<void()> on_thread_start;
  std::function<void()> on_thread_stop;
};

// A ModeStrategy for `Watchdog(config, mode)` that serves `function` on worker threads.
OFWATCHDOG_API std::unique_ptr<ModeStrategy> make_function_mode(Function function,
                                                                FunctionOptions options = {});
OFWATCHDOG_API std::unique_ptr<ModeStrategy> make_function_mode(FunctionFactory factory,
                                                                FunctionOptions options = {});
OFWATCHDOG_API std::unique_ptr<ModeStrategy>
make_streaming_function_mode(StreamingFunction function, FunctionOptions options = {});
OFWATCHDOG_API std::unique_ptr<ModeStrategy>
make_streaming_function_mode(StreamingFunctionFactory factory, FunctionOptions options = {});

// Whether a response head may be sent as given: nothing when it may, else what is wrong
// ("status 700 is outside 200-599", "header \"X\r\" is not a valid field name", ...).
OFWATCHDOG_API std::optional<std::string> check_response_head(int status,
                                                              const HeaderList& headers);

} // namespace ofwatchdog
