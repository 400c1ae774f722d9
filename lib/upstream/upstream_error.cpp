// Upstream failure texts; see upstream_error.hpp.
#include "upstream/upstream_error.hpp"

#include <fmt/format.h>
#include <uv.h>

#include "util/strings.hpp"

namespace ofwatchdog::upstream {

std::string dial_error_text(std::string_view host_port, int uv_error) {
  return fmt::format("dial tcp {}: connect: {}", host_port, uv_strerror(uv_error));
}

std::string lookup_error_text(std::string_view host, int uv_error) {
  return fmt::format("dial tcp: lookup {}: {}", host, uv_strerror(uv_error));
}

std::string io_error_text(std::string_view op, int uv_error) {
  return fmt::format("{}: {}", op, uv_strerror(uv_error));
}

std::string title_case_method(std::string_view method) {
  std::string out = to_lower(method);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 32);
  return out;
}

} // namespace ofwatchdog::upstream
