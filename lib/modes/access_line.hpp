#pragma once
// The per-request access line, as every mode writes it: Kubernetes probes are not logged (the
// original's filter), and the method and URI come from the request.

#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/log.hpp"

namespace ofwatchdog::modes {

// A request from a kubelet probe (`User-Agent: kube-probe/...`).
bool is_kube_probe(const Request& request);

// Fills `record.method` and `record.uri` from `request` and writes the line, unless the request
// is a probe.
void log_access_line(Logger& log, const Request& request, AccessRecord record);

} // namespace ofwatchdog::modes
