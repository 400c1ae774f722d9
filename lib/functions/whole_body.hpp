#pragma once
// The pure parts of a whole-body call: the request it is given, and its function called with
// every failure turned into a reason for the log.

#include <optional>
#include <string>

#include "ofwatchdog/function.hpp"

namespace ofwatchdog::functions {

// The request a function sees: the head's fields and the body, moved in.
FunctionRequest whole_request(const Request& head, std::string body);

// What a call gave: an answer that passed check_response_head, or why there is none (an
// exception's message, or the rule the answer broke).
struct WholeOutcome {
  std::optional<FunctionResponse> response;
  std::string failure;
};

// Worker thread: calls `function` and checks its answer; nothing escapes.
WholeOutcome call_function(const Function& function, const FunctionRequest& request,
                           CallContext& context);

} // namespace ofwatchdog::functions
