#include "modes/access_line.hpp"

namespace ofwatchdog::modes {

bool is_kube_probe(const Request& request) {
  const std::string* agent = request.header("User-Agent");
  return agent != nullptr && agent->rfind("kube-probe", 0) == 0;
}

void log_access_line(Logger& log, const Request& request, AccessRecord record) {
  if (is_kube_probe(request))
    return;
  record.method = request.method;
  record.uri = request.target;
  log.access(record);
}

} // namespace ofwatchdog::modes
