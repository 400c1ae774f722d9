// whole_request and call_function: see whole_body.hpp.
#include "functions/whole_body.hpp"

#include <exception>

#include <fmt/format.h>

namespace ofwatchdog::functions {

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

WholeOutcome call_function(const Function& function, const FunctionRequest& request,
                           CallContext& context) {
  WholeOutcome outcome;
  try {
    FunctionResponse response = function(request, context);
    if (auto wrong = check_response_head(response.status, response.headers))
      outcome.failure = fmt::format("the function's answer is not valid: {}", *wrong);
    else
      outcome.response = std::move(response);
  } catch (const std::exception& e) {
    outcome.failure = e.what();
  } catch (...) {
    outcome.failure = "an exception that is not a std::exception";
  }
  return outcome;
}

} // namespace ofwatchdog::functions
