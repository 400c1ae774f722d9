#include "lifecycle/ready_path_exchange.hpp"

#include "util/strings.hpp"

namespace ofwatchdog::lifecycle {

ReadyPathExchange::ReadyPathExchange(std::shared_ptr<Exchange> probe, const std::string& ready_path)
    : ForwardingExchange(std::move(probe)) {
  const Request& original = inner().request();
  request_.method = "GET";
  request_.target = ready_path;
  request_.path = ready_path;
  request_.version_major = original.version_major;
  request_.version_minor = original.version_minor;
  request_.remote_address = original.remote_address;
  // The probe's headers are copied, but the synthetic request has no body, and no Host: the
  // original sends the upstream's own host in http mode.
  for (const Header& h : original.headers) {
    if (iequals(h.name, "Host") || iequals(h.name, "Content-Length") ||
        iequals(h.name, "Transfer-Encoding"))
      continue;
    request_.headers.push_back(h);
  }
}

} // namespace ofwatchdog::lifecycle
