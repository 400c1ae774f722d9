#pragma once
// A whole-body Function served as a streaming one: the body is read whole, the function is
// called, and its answer is checked and sent with its Content-Length.

#include "ofwatchdog/function.hpp"

namespace ofwatchdog::functions {

StreamingFunction serve_whole_body(Function function);

} // namespace ofwatchdog::functions
