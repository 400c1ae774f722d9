// Parsing the upstream URL and joining request targets to it; see upstream_url.hpp.
#include "upstream/upstream_url.hpp"

#include <charconv>

#include "util/strings.hpp"

namespace ofwatchdog::upstream {

std::optional<UpstreamUrl> parse_upstream_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!istarts_with(url, kScheme))
    return std::nullopt;
  std::string_view rest = url.substr(kScheme.size());
  std::size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (authority.empty() || path.find_first_of("?#") != std::string_view::npos)
    return std::nullopt;

  UpstreamUrl out;
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return std::nullopt;
      port = after.substr(1);
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty())
    return std::nullopt;
  if (!port.empty()) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
      return std::nullopt;
    out.port = value;
  }
  out.host = std::string(host);
  out.authority = std::string(authority);
  out.origin = std::string(url.substr(0, kScheme.size())) + out.authority;
  out.base_path = std::string(path);
  return out;
}

std::string_view target_path_and_query(std::string_view target) {
  if (target.empty() || target.front() == '/')
    return target;
  // Absolute form: skip "scheme://authority".
  std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos)
    return target; // "*" or something the server let through: sent as it came
  std::size_t path = target.find_first_of("/?", scheme_end + 3);
  if (path == std::string_view::npos)
    return "/";
  if (target[path] == '?')
    return target.substr(path); // "http://h?x" has an empty path; the query still counts
  return target.substr(path);
}

std::string join_target(const UpstreamUrl& url, std::string_view request_target) {
  std::string_view tail = target_path_and_query(request_target);
  std::string out;
  out.reserve(url.base_path.size() + tail.size() + 1);
  out.append(url.base_path);
  // A request line needs a path, also before a query.
  if (out.empty() && (tail.empty() || tail.front() == '?'))
    out.push_back('/');
  out.append(tail);
  return out;
}

std::string full_url(const UpstreamUrl& url, std::string_view request_target) {
  return url.origin + join_target(url, request_target);
}

} // namespace ofwatchdog::upstream
