#pragma once
// A mode that wraps another: `tagged(inner)` serves exactly as `inner` does, through a wrapper
// exchange that adds `X-Tagged: <mode>` to every response head. The wrapper derives from
// ForwardingExchange, so the inner mode's kernel-moved bodies (the static mode's sendfile, the
// streaming mode's splices) still reach the server: wrapping costs one header, not a copy of
// every body byte.

#include <ofwatchdog/mode_registry.hpp>

ofwatchdog::ModeDescriptor tagged(const ofwatchdog::ModeDescriptor& inner);
