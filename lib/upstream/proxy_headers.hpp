#pragma once
// What the proxy changes in headers on the way through (docs/decisions.md:
// proxy-request-framing, proxy-hop-by-hop, proxy-compression).
//
// Both ways, hop-by-hop headers are dropped: Connection and every header it names, Keep-Alive,
// TE (a request's `TE: trailers` survives), Trailer, Transfer-Encoding, Upgrade (kept only when a
// protocol switch is being tunnelled), Proxy-Connection, Proxy-Authenticate and
// Proxy-Authorization. Everything else passes untouched, `Accept-Encoding` and
// `Content-Encoding` included: the proxy never adds or undoes compression.
//
// Towards the upstream: `Host` is the client's (the upstream's own host:port when the client
// sent none), `X-Forwarded-For` gets the client's address appended, `X-Forwarded-Host` is the
// client's Host and `X-Forwarded-Proto` is `http`. The client's `Expect` is dropped; the proxy
// sends `Expect: 100-continue` itself when it leaves the answer to the upstream
// (`BodyFraming::expect_continue`), since servers read a body differently when a client waits
// for their go-ahead.

#include <cstdint>
#include <string>
#include <string_view>

#include "ofwatchdog/exchange.hpp"
#include "upstream/upstream_url.hpp"

namespace ofwatchdog::upstream {

// How the request body goes to the upstream.
struct BodyFraming {
  enum class Kind { none, length, chunked };
  Kind kind = Kind::none;
  std::uint64_t length = 0; // for Kind::length
  // The body waits for the upstream's `100 Continue`: the head says `Expect: 100-continue`.
  bool expect_continue = false;
};

// True for the fixed hop-by-hop names (not for those a Connection header adds).
bool is_hop_by_hop(std::string_view name);

// Drops hop-by-hop headers, including the ones `headers`' own Connection values name.
// `keep_upgrade` keeps `Upgrade` (a tunnel); `keep_te_trailers` keeps a `TE` that lists
// `trailers`, reduced to exactly that.
HeaderList strip_hop_by_hop(const HeaderList& headers, bool keep_upgrade, bool keep_te_trailers);

// True when the request asks to switch protocols: an `Upgrade` header named in `Connection`.
bool is_upgrade_request(const Request& request);

// The client's IP without the port ("1.2.3.4" from "1.2.3.4:5678", "::1" from "[::1]:5678").
std::string client_ip(std::string_view remote_address);

// The request line and headers to send upstream, ending with the blank line.
std::string build_request_head(const Request& request, const UpstreamUrl& url,
                               const BodyFraming& framing);

// The upstream's response headers as the client gets them: hop-by-hop headers dropped, and
// Content-Length too (the server frames the body from ResponseHead::content_length).
// `tunnel` keeps `Upgrade` and puts `Connection: Upgrade` back for a 101.
HeaderList response_headers_for_client(const HeaderList& upstream, bool tunnel);
// The same, reusing the upstream's list (its strings are moved, not copied).
HeaderList response_headers_for_client(HeaderList&& upstream, bool tunnel);

} // namespace ofwatchdog::upstream
