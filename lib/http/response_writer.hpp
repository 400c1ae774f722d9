#pragma once
// Serialising responses: the head, and the framing of the body that follows it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::http {

// How a response body is delimited on the wire.
struct Framing {
  bool body_allowed = true; // false: body bytes are dropped (HEAD, 1xx, 204, 304)
  std::optional<std::uint64_t> content_length; // sent as Content-Length
  bool chunked = false;                        // Transfer-Encoding: chunked
  bool close_delimited = false;                // the body ends when the connection closes
  // A 101 that switches protocols: the bytes after the head are raw in both directions, and the
  // handler's `Connection` (and `Upgrade`) headers are sent as given.
  bool tunnel = false;
};

// HEAD, 1xx, 204 and 304 carry no body; a known length gives Content-Length (kept for HEAD and
// 304, as a HEAD response describes the GET one); otherwise chunked for HTTP/1.1 and
// close-delimited for HTTP/1.0 clients.
Framing choose_framing(std::string_view method, bool http10_client, int status,
                       std::optional<std::uint64_t> content_length);

// The status line and headers, ending with the blank line. `Date` is added unless `headers` has
// one; any Content-Length, Transfer-Encoding or Connection in `headers` is replaced by what
// `framing` and `connection` say (`connection` empty: no Connection header), except that a tunnel
// keeps the handler's Connection header (adding `Connection: Upgrade` if it has none). CR and LF
// inside names or values are replaced by spaces so a header cannot split the response.
std::string serialize_head(int status, const HeaderList& headers, const Framing& framing,
                           std::string_view date, std::string_view connection);

// Appends `data` as one chunk (nothing for empty data, which would end the body).
void append_chunk(std::string& out, std::string_view data);

// Writes the size line of a chunk of `size` bytes (`<hex>\r\n`) into `out` (at least 20 bytes)
// and returns it.
std::string_view chunk_header(char* out, std::size_t size);

// The chunk that ends a chunked body (no trailers).
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The interim response sent when a handler starts reading a body the client held back.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

} // namespace ofwatchdog::http
