// Compiled with the flags of lib/http by tests/layers/forbidden_include.py: the HTTP server may
// use util/ but must not know any mode, so the second include must not be found.
#include "util/strings.hpp"
#ifndef LAYER_PROBE_CONTROL
#include "modes/mode_factory.hpp"
#endif
