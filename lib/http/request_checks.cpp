#include "http/request_checks.hpp"

#include <fmt/format.h>

#include "http/host_syntax.hpp"
#include "http/path_clean.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::http {

namespace {
ServerAnswer raw_answer(std::string text) {
  ServerAnswer answer;
  answer.raw = true;
  answer.raw_text = std::move(text);
  return answer;
}

std::size_t count_headers(const Request& request, std::string_view name) {
  std::size_t n = 0;
  for (const Header& h : request.headers) {
    if (iequals(h.name, name))
      ++n;
  }
  return n;
}
} // namespace

bool header_has_token(const HeaderList& headers, std::string_view name, std::string_view token) {
  for (const Header& h : headers) {
    if (!iequals(h.name, name))
      continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view item = trim_ows(rest.substr(0, comma));
      if (iequals(item, token))
        return true;
      if (comma == std::string_view::npos)
        break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool wants_keep_alive(const Request& request) {
  if (header_has_token(request.headers, "Connection", "close"))
    return false;
  if (request.version_major == 1 && request.version_minor >= 1)
    return true;
  return header_has_token(request.headers, "Connection", "keep-alive");
}

bool expects_continue(const Request& request) {
  const std::string* expect = request.header("Expect");
  return expect != nullptr && iequals(trim_ows(*expect), "100-continue") &&
         request.version_major == 1 && request.version_minor >= 1 && request.has_body();
}

std::string raw_error_response(std::string_view text) {
  return fmt::format("HTTP/1.1 {}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Connection: close\r\n\r\n{}",
                     text, text);
}

namespace {
// An absolute-form target (`GET http://a.example/x`) names the host itself, and RFC 9112
// §3.2.2 makes it win over the Host header. The request is rewritten to the origin form with
// that Host, so every mode (Http_Host, the upstream's Host and X-Forwarded-Host) sees one host.
std::optional<ServerAnswer> adopt_absolute_form(Request& request) {
  TargetParts parts = split_target(request.target);
  if (parts.scheme.empty())
    return std::nullopt;
  if (!iequals(parts.scheme, "http") && !iequals(parts.scheme, "https"))
    return raw_answer("400 Bad Request: unsupported scheme in the request target");
  // An http URI must name a host (RFC 9110 §4.2.1); userinfo is refused as RFC 9110 §4.2.4
  // advises, since it is a known way to make a URL look like another host's.
  if (parts.authority.empty() || parts.authority.find('@') != std::string_view::npos ||
      !valid_host(parts.authority))
    return raw_answer("400 Bad Request: malformed authority in the request target");
  std::string authority(parts.authority);
  std::string origin_form = parts.path.empty() ? std::string("/") : std::string(parts.path);
  if (parts.has_query) {
    origin_form += '?';
    origin_form += parts.query;
  }
  request.target = std::move(origin_form);
  std::erase_if(request.headers, [](const Header& h) { return iequals(h.name, "Host"); });
  request.headers.insert(request.headers.begin(), Header{"Host", std::move(authority)});
  return std::nullopt;
}
} // namespace

std::optional<ServerAnswer> check_request(Request& request) {
  if (request.version_major != 1) {
    return raw_answer("505 HTTP Version Not Supported: unsupported protocol version");
  }
  // CONNECT asks for a tunnel to another host: a function is not a forward proxy, and a mode
  // that forwarded it would hand a client a raw connection to wherever it named.
  if (request.method == "CONNECT") {
    return raw_answer("501 Not Implemented: CONNECT is not supported");
  }
  std::size_t hosts = count_headers(request, "Host");
  if (request.version_minor >= 1 && hosts == 0) {
    return raw_answer("400 Bad Request: missing required Host header");
  }
  if (hosts > 1) {
    return raw_answer("400 Bad Request: too many Host headers");
  }
  if (auto refused = adopt_absolute_form(request)) {
    return refused;
  }
  if (const std::string* host = request.header("Host"); host != nullptr && !valid_host(*host)) {
    return raw_answer("400 Bad Request: malformed Host header");
  }

  TargetParts parts = split_target(request.target);
  std::optional<std::string> path = percent_decode(parts.path);
  if (!path) {
    return raw_answer("400 Bad Request");
  }
  request.path = std::move(*path);
  request.raw_query = std::string(parts.query);

  const std::string* expect = request.header("Expect");
  if (expect != nullptr && !iequals(trim_ows(*expect), "100-continue") &&
      !trim_ows(*expect).empty()) {
    ServerAnswer answer;
    answer.head.status = 417;
    answer.head.headers.push_back({"Connection", "close"});
    answer.head.content_length = 0;
    return answer;
  }

  if (request.method == "OPTIONS" && request.target == "*") {
    ServerAnswer answer;
    answer.head.status = 200;
    answer.head.content_length = 0;
    return answer;
  }

  std::string clean = clean_path(request.path);
  if (clean == request.path) {
    return std::nullopt;
  }
  std::string location = escape_path(clean);
  if (parts.has_query && !parts.query.empty()) {
    location += "?";
    location += escape_query(parts.query);
  }
  ServerAnswer answer;
  answer.head.status = 301;
  if (request.method == "GET" || request.method == "HEAD") {
    answer.head.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
    answer.body = fmt::format("<a href=\"{}\">Moved Permanently</a>.\n\n", html_escape(location));
  }
  answer.head.headers.insert(answer.head.headers.begin(), Header{"Location", location});
  answer.head.content_length = answer.body.size();
  return answer;
}

} // namespace ofwatchdog::http
