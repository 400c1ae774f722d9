// Compiled with the flags of lib/process by tests/layers/forbidden_include.py: spawning may use
// log/ but must not know HTTP, so the second include must not be found.
#include "log/line_splitter.hpp"
#ifndef LAYER_PROBE_CONTROL
#include "http/server.hpp"
#endif
