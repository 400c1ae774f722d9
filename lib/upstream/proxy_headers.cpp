// Header rules of the proxy; see proxy_headers.hpp.
#include "upstream/proxy_headers.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "http/request_checks.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::upstream {

namespace {

constexpr std::array<std::string_view, 9> kHopByHop = {
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
};

// Calls `each` for every comma-separated, trimmed, non-empty element of `value`.
template <typename F> void for_each_token(std::string_view value, F each) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view token = trim_ows(value.substr(0, comma));
    if (!token.empty())
      each(token);
    if (comma == std::string_view::npos)
      break;
    value.remove_prefix(comma + 1);
  }
}

// Which headers of one list the hop-by-hop rules drop, decided header by header, so that the
// request head can be built and the response's list filtered without copying the headers.
// It refers to the list's own text: the list must outlive it.
class HopByHop {
public:
  HopByHop(const HeaderList& headers, bool keep_upgrade, bool keep_te_trailers)
      : keep_upgrade_(keep_upgrade),
        te_trailers_(keep_te_trailers && http::header_has_token(headers, "TE", "trailers")) {
    for (const Header& h : headers) {
      if (iequals(h.name, "Connection"))
        for_each_token(h.value, [&](std::string_view t) { name(t); });
    }
  }

  enum class Verdict : std::uint8_t { keep, drop, as_te_trailers };

  // `as_te_trailers` is given once, for the first TE header, when TE lists `trailers`: the
  // header is kept as exactly `TE: trailers`.
  Verdict judge(const Header& h) {
    if (keep_upgrade_ && iequals(h.name, "Upgrade"))
      return Verdict::keep;
    if (is_hop_by_hop(h.name)) {
      if (te_trailers_ && !te_given_ && iequals(h.name, "TE")) {
        te_given_ = true;
        return Verdict::as_te_trailers;
      }
      return Verdict::drop;
    }
    for (std::size_t i = 0; i < named_count_; ++i) {
      if (iequals(named_[i], h.name))
        return Verdict::drop;
    }
    for (std::string_view n : named_more_) {
      if (iequals(n, h.name))
        return Verdict::drop;
    }
    return Verdict::keep;
  }

private:
  void name(std::string_view token) {
    if (named_count_ < named_.size())
      named_[named_count_++] = token;
    else
      named_more_.push_back(token);
  }

  // The names Connection lists: a few in place (every proxied response has its
  // `Connection: keep-alive`), any beyond them in the vector.
  std::array<std::string_view, 4> named_{};
  std::size_t named_count_ = 0;
  std::vector<std::string_view> named_more_;
  bool keep_upgrade_;
  bool te_trailers_;
  bool te_given_ = false;
};

bool post_like(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

} // namespace

bool is_hop_by_hop(std::string_view name) {
  for (std::string_view h : kHopByHop) {
    if (iequals(h, name))
      return true;
  }
  return false;
}

HeaderList strip_hop_by_hop(const HeaderList& headers, bool keep_upgrade, bool keep_te_trailers) {
  HopByHop rules(headers, keep_upgrade, keep_te_trailers);
  HeaderList out;
  out.reserve(headers.size());
  for (const Header& h : headers) {
    switch (rules.judge(h)) {
    case HopByHop::Verdict::keep:
      out.push_back(h);
      break;
    case HopByHop::Verdict::as_te_trailers:
      out.push_back(Header{h.name, "trailers"});
      break;
    case HopByHop::Verdict::drop:
      break;
    }
  }
  return out;
}

bool is_upgrade_request(const Request& request) {
  return request.header("Upgrade") != nullptr &&
         http::header_has_token(request.headers, "Connection", "upgrade");
}

std::string client_ip(std::string_view remote_address) {
  if (!remote_address.empty() && remote_address.front() == '[') {
    std::size_t close = remote_address.find(']');
    if (close != std::string_view::npos)
      return std::string(remote_address.substr(1, close - 1));
  }
  std::size_t colon = remote_address.rfind(':');
  // A bare IPv6 address has several colons and no port to cut.
  if (colon != std::string_view::npos && remote_address.find(':') == colon)
    return std::string(remote_address.substr(0, colon));
  return std::string(remote_address);
}

std::string build_request_head(const Request& request, const UpstreamUrl& url,
                               const BodyFraming& framing) {
  bool upgrade = is_upgrade_request(request);
  HopByHop rules(request.headers, upgrade, true);

  std::string out;
  out.reserve(512);
  out.append(request.method);
  out.push_back(' ');
  out.append(join_target(url, request.target));
  out.append(" HTTP/1.1\r\n");

  const std::string* host = request.header("Host");
  bool client_host = host != nullptr && !host->empty();
  append_header(out, "Host", client_host ? std::string_view(*host) : url.authority);

  std::string forwarded_for;
  for (const Header& h : request.headers) {
    HopByHop::Verdict verdict = rules.judge(h);
    if (verdict == HopByHop::Verdict::drop)
      continue;
    if (verdict == HopByHop::Verdict::as_te_trailers) {
      append_header(out, h.name, "trailers");
      continue;
    }
    // Replaced below by what this proxy knows; Content-Length follows the framing.
    if (iequals(h.name, "Host") || iequals(h.name, "Content-Length") || iequals(h.name, "Expect") ||
        iequals(h.name, "X-Forwarded-Host") || iequals(h.name, "X-Forwarded-Proto"))
      continue;
    if (iequals(h.name, "X-Forwarded-For")) {
      if (!forwarded_for.empty())
        forwarded_for += ", ";
      forwarded_for += h.value;
      continue;
    }
    append_header(out, h.name, h.value);
  }

  switch (framing.kind) {
  case BodyFraming::Kind::length:
    append_header(out, "Content-Length", std::to_string(framing.length));
    break;
  case BodyFraming::Kind::chunked:
    append_header(out, "Transfer-Encoding", "chunked");
    break;
  case BodyFraming::Kind::none:
    // Some servers refuse a POST without a length (411); an explicit zero is always right.
    if (post_like(request.method))
      append_header(out, "Content-Length", "0");
    break;
  }
  if (framing.expect_continue && framing.kind != BodyFraming::Kind::none)
    append_header(out, "Expect", "100-continue");
  if (upgrade)
    append_header(out, "Connection", "Upgrade");

  std::string ip = client_ip(request.remote_address);
  if (!ip.empty()) {
    if (!forwarded_for.empty())
      forwarded_for += ", ";
    forwarded_for += ip;
  }
  if (!forwarded_for.empty())
    append_header(out, "X-Forwarded-For", forwarded_for);
  if (client_host)
    append_header(out, "X-Forwarded-Host", *host);
  append_header(out, "X-Forwarded-Proto", "http");
  out.append("\r\n");
  return out;
}

HeaderList response_headers_for_client(const HeaderList& upstream, bool tunnel) {
  return response_headers_for_client(HeaderList(upstream), tunnel);
}

HeaderList response_headers_for_client(HeaderList&& upstream, bool tunnel) {
  HeaderList out = std::move(upstream);
  {
    // Judged before anything is erased: the rules refer to the list's Connection values.
    HopByHop rules(out, tunnel, false);
    // The verdicts as bits: a word for a usual head, the vector only for a head of more than
    // 64 headers.
    constexpr std::size_t kWordBits = 64;
    std::uint64_t dropped_few = 0;
    std::vector<bool> dropped_many(out.size() > kWordBits ? out.size() : 0);
    for (std::size_t i = 0; i < out.size(); ++i) {
      bool drop =
          rules.judge(out[i]) == HopByHop::Verdict::drop || iequals(out[i].name, "Content-Length");
      if (!dropped_many.empty())
        dropped_many[i] = drop;
      else if (drop)
        dropped_few |= std::uint64_t{1} << i;
    }
    auto dropped = [&](std::size_t i) {
      return dropped_many.empty() ? ((dropped_few >> i) & 1U) != 0 : bool(dropped_many[i]);
    };
    std::size_t kept = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (dropped(i))
        continue;
      if (kept != i)
        out[kept] = std::move(out[i]);
      ++kept;
    }
    out.resize(kept);
  }
  if (tunnel)
    out.push_back(Header{"Connection", "Upgrade"});
  return out;
}

} // namespace ofwatchdog::upstream
