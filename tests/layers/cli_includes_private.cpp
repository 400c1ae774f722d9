// Compiled with the flags of cli/main.cpp by tests/layers/forbidden_include.py: the command sees
// the public headers only, so the private header of lib/config must not be found.
#include "ofwatchdog/config.hpp"
#ifndef LAYER_PROBE_CONTROL
#include "config/values.hpp"
#endif
