// serve_whole_body: see whole_body.hpp.
#include "functions/whole_body.hpp"

#include <fmt/format.h>

#include "functions/streaming_call.hpp"

namespace ofwatchdog::functions {

namespace {

// False when the call stopped before the body was whole (a 413 included).
bool read_whole_body(StreamingCall& call, std::string& body) {
  const Request& request = call.request();
  if (request.content_length)
    body.reserve(static_cast<std::size_t>(*request.content_length));
  constexpr std::size_t kPiece = 64 * 1024;
  for (;;) {
    std::size_t had = body.size();
    body.resize(had + kPiece);
    WorkRead got = call.read(body.data() + had, kPiece);
    body.resize(had + got.size);
    if (got.status == WorkStatus::end)
      return true;
    if (got.status == WorkStatus::cancelled)
      return false;
  }
}

FunctionRequest whole_request(const Request& head, std::string body) {
  FunctionRequest request;
  request.method = head.method;
  request.path = head.path;
  request.raw_query = head.raw_query;
  request.target = head.target;
  request.headers = head.headers;
  request.body = std::move(body);
  request.remote_address = head.remote_address;
  return request;
}

} // namespace

StreamingFunction serve_whole_body(Function function) {
  return [function = std::move(function)](StreamingCall& call) {
    std::string body;
    if (!read_whole_body(call, body))
      return;
    FunctionRequest request = whole_request(call.request(), std::move(body));
    // An exception goes on to the mode's job, which fails the call with it.
    FunctionResponse response = function(request, call);
    if (call.stop_token().stop_requested())
      return; // the client has its answer (504) or is gone: this one is dropped
    if (auto wrong = check_response_head(response.status, response.headers)) {
      call.fail(fmt::format("the function's answer is not valid: {}", *wrong));
      return;
    }
    std::uint64_t size = response.body.size();
    call.send_head(response.status, std::move(response.headers), size);
    if (size != 0)
      call.write(response.body);
  };
}

} // namespace ofwatchdog::functions
