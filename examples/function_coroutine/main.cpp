// examples/embed's function as coroutines (make_coroutine_mode): each request is a function
// written top to bottom, with backpressure both ways and nothing to delete. It reads the same
// environment variables as of-watchdog (mode defaults to inproc here).
//
//   POST /upper   streams the body back in upper case
//   GET  /slow    waits until cancelled: exec_timeout (or X-Timeout) turns it into a 504
//   GET  /throw   throws: the client gets a 500, the log gets the message
//   anything else a short greeting

#include <cctype>
#include <stdexcept>
#include <string>

#include <ofwatchdog/coroutine.hpp>
#include <ofwatchdog/watchdog.hpp>

namespace {

using ofwatchdog::BodyPiece;
using ofwatchdog::LoopCall;
using ofwatchdog::Task;

void log_cancelled(LoopCall& call, const char* what) {
  call.log(std::string(what) + " request cancelled: " +
           std::string(ofwatchdog::cancel_reason_text(*call.cancel_reason())));
}

Task upper_case(LoopCall& call) {
  call.log("upper-casing a request body");
  for (;;) {
    BodyPiece piece = co_await call.read(); // the client is read only while we wait here
    if (piece.status != BodyPiece::Status::data)
      break;
    // The head waits for the first piece, so that a body over max_body_size still gets a 413.
    call.send_head(200, {{"Content-Type", "text/plain"}}); // false (ignored) once it is sent
    std::string upper(piece.data);
    for (char& c : upper)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!co_await call.write(upper)) // waits while the client reads slower than we write
      break;
  }
  if (call.cancelled())
    log_cancelled(call, "upper");
} // returning finishes the response

Task slow(LoopCall& call) {
  call.log("slow request waiting until cancelled");
  co_await call.cancellation();
  log_cancelled(call, "slow");
}

Task fail(LoopCall&) {
  throw std::runtime_error("the coroutine threw on purpose");
  co_return;
}

Task greet(LoopCall& call) {
  std::string body =
      "Hello from a coroutine: " + call.request().method + " " + call.request().path + "\n";
  call.send_head(200, {{"Content-Type", "text/plain"}}, body.size());
  co_await call.write(body);
}

Task handle(LoopCall& call) {
  const std::string& path = call.request().path;
  return path == "/upper"   ? upper_case(call)
         : path == "/slow"  ? slow(call)
         : path == "/throw" ? fail(call)
                            : greet(call);
}

} // namespace

int main() {
  return ofwatchdog::serve_function(ofwatchdog::make_coroutine_mode(handle));
}
