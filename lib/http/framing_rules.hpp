#pragma once
// The framing rules the watchdog adds to llhttp's strict mode, so that a request is either
// framed one way that every HTTP/1.1 peer agrees on, or refused before anything acts on it.
// A re-framing proxy that let an ambiguous request through would forward a different message
// than the one a front proxy saw: the request-smuggling shapes of RFC 9112 §11.2.
//
// llhttp already refuses Content-Length with Transfer-Encoding, repeated or signed lengths,
// bare CR and LF inside lines, and malformed chunk sizes. What it lets through, and these
// rules refuse:
// - Transfer-Encoding other than exactly one `chunked`: `gzip`, `identity`, `chunkedx` and
//   `gzip, chunked` (501: a coding we do not implement; RFC 9112 §6.1), and malformed lists
//   such as `,chunked` or `chunked, chunked` (400);
// - Transfer-Encoding in an HTTP/1.0 request (400, as nginx answers; RFC 9112 §6.1 calls that
//   framing faulty);
// - obs-fold, a line that starts with SP or HTAB (400; RFC 9112 §5.2 lets a server refuse it,
//   and for a proxy that is the safe choice);
// - a bare LF as the empty line that ends a head or a trailer section.

#include <cstddef>
#include <string_view>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::http {

enum class CodingVerdict {
  none,        // no Transfer-Encoding
  chunked,     // exactly one `chunked`
  malformed,   // an empty list member or `chunked` twice: 400
  unsupported, // any other coding: 501
};

// Judges every Transfer-Encoding field of `headers` together (several fields form one list).
CodingVerdict judge_transfer_coding(const HeaderList& headers);

// Watches the raw bytes of a head or a trailer section, across as many pieces as they come in,
// for the line structure llhttp does not check: every line ends in CRLF, no CR stands alone,
// and no line after the first starts with SP or HTAB.
class LineDiscipline {
public:
  // A head: its first line is the request line.
  void begin_head();
  // A trailer section, which starts right after the last-chunk line.
  void begin_trailers();
  // Scans a piece; returns the first fault found, or an empty view.
  std::string_view scan(std::string_view bytes);
  // After a head: whether its request line ended in ` HTTP/` and a version. llhttp also takes
  // `ICE/1.0` (for SOURCE) and `RTSP/1.0` (for GET, POST and RTSP's methods) as a version,
  // which are not HTTP and must not be served as HTTP/1.0.
  bool request_line_is_http() const;

private:
  // The last bytes of the request line before its CR, enough to hold ` HTTP/1.1`.
  static constexpr std::size_t kTailBytes = 9;
  void keep_in_tail(std::string_view run);

  char previous_ = '\n';
  bool first_line_ = true;
  char tail_[kTailBytes] = {};
  std::size_t tail_count_ = 0; // bytes of the request line seen, all but the last 9 dropped
};

} // namespace ofwatchdog::http
