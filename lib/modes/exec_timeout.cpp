// The effective exec timeout; see exec_timeout.hpp.
#include "modes/exec_timeout.hpp"

namespace ofwatchdog::modes {

Duration effective_exec_timeout(Duration exec_timeout, const std::string* x_timeout) {
  if (exec_timeout <= Duration::zero())
    return Duration::zero();
  if (x_timeout == nullptr)
    return exec_timeout;
  std::optional<Duration> requested = parse_go_duration(*x_timeout);
  if (!requested || *requested <= Duration::zero() || *requested > exec_timeout)
    return exec_timeout;
  return *requested;
}

} // namespace ofwatchdog::modes
