#pragma once
// llhttp (strict: every lenient flag off) wrapped for one connection.
//
// The parser stops twice per message: once the head is complete, so the connection can decide
// what to do with the request before any body byte is taken, and once the message is complete,
// so pipelined requests are handled one at a time. It never allocates for the body: body bytes
// are handed out as spans of the caller's buffer.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <llhttp.h>

#include "http/framing_rules.hpp"
#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::http {

class RequestParser {
public:
  enum class Status {
    need_more,    // everything was consumed; the message is not complete yet
    head_done,    // the head is complete: take_request(); then feed the rest again
    message_done, // the message (and its body) is complete
    error,        // malformed input or a head over the size limit; see error()
  };
  enum class Error {
    none,
    bad_request,      // malformed framing: 400
    header_too_large, // the head, or the trailer section, is over the limit: 431
    not_implemented,  // a transfer coding other than chunked: 501
  };

  struct Result {
    std::size_t consumed = 0;
    Status status = Status::need_more;
  };

  explicit RequestParser(std::size_t max_header_bytes);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Receives each piece of de-chunked body data during `feed`.
  void set_body_sink(std::function<void(std::string_view)> sink) { body_sink_ = std::move(sink); }

  // Parses from `data` until a stop (above) or the end of the bytes.
  Result feed(const char* data, std::size_t len);

  // The request whose head just completed (path, query and remote address are left empty).
  Request take_request() { return std::move(request_); }

  // True between the first byte of a message and its end.
  bool in_message() const { return in_message_; }
  bool head_complete() const { return head_complete_; }
  // The message asked for a protocol switch (or was CONNECT): nothing after it is HTTP.
  bool upgrade() const { return upgrade_; }
  Error error() const { return error_; }
  // Body bytes of the current Content-Length message the parser has not seen yet.
  std::uint64_t body_remaining() const { return parser_.content_length; }
  // The rest of the current message's body was consumed around the parser (spliced): the
  // parser starts afresh at the next message, as after a message end.
  void skip_to_message_end();
  // What was wrong, in words fit for a log line ("invalid chunk size", ...).
  std::string_view error_reason() const { return error_reason_; }

  // Chunk-extension bytes allowed in one message, over all its chunks (extensions carry
  // nothing we use; Node caps them the same way since CVE-2024-22019, to bound the work an
  // endless extension costs).
  static constexpr std::size_t kMaxChunkExtensionBytes = 16 * 1024;
  // Header fields allowed in one head. The byte limit alone would let 1 MiB of tiny fields
  // (`a:b`) cost over ten times that in memory per connection; no client needs this many.
  static constexpr std::size_t kMaxHeaderCount = 10000;
  // The largest chunk size accepted: no body is larger, and sizes past it are where parsers
  // disagree about overflow.
  static constexpr std::uint64_t kMaxChunkSize = (std::uint64_t{1} << 63) - 1;

private:
  static const llhttp_settings_t& settings();

  int on_message_begin();
  int on_url(const char* at, std::size_t length);
  int on_header_field(const char* at, std::size_t length);
  int on_header_value(const char* at, std::size_t length);
  int on_header_value_complete();
  int on_headers_complete();
  int on_body(const char* at, std::size_t length);
  int on_chunk_extension(const char* at, std::size_t length);
  int on_chunk_header();
  int on_message_complete();

  // Runs llhttp over `data`, resuming by itself after the stop at the last chunk.
  llhttp_errno_t execute(const char* data, std::size_t len, std::size_t& consumed);
  // Records a fault found by a callback or a framing rule; llhttp is stopped by the caller.
  int fail(Error error, std::string reason);
  // Checks the bytes in [from, to) that follow a chunk's data: they must start with CRLF.
  // llhttp 8 skips those two bytes unread, so `3\r\nabcXX0\r\n\r\n` would pass as `abc`.
  bool chunk_end_ok(const char* from, const char* to);

  llhttp_t parser_{};
  std::size_t max_header_bytes_;
  std::size_t head_bytes_ = 0;
  bool paused_ = false;
  bool in_message_ = false;
  bool head_complete_ = false;
  bool message_complete_ = false;
  bool upgrade_ = false;
  bool in_trailers_ = false;     // between the last-chunk line and the message end
  bool last_chunk_stop_ = false; // llhttp stopped right after the last-chunk line
  std::size_t trailer_bytes_ = 0;
  std::size_t extension_bytes_ = 0;
  std::uint64_t chunk_left_ = 0;   // data bytes of the current chunk not handed out yet
  unsigned chunk_crlf_due_ = 0;    // bytes of the CRLF after a chunk's data not checked yet
  const char* feed_end_ = nullptr; // the end of the bytes llhttp is running over
  LineDiscipline lines_;
  Error error_ = Error::none;
  std::string error_reason_;
  Request request_;
  std::string field_;
  std::string value_;
  std::function<void(std::string_view)> body_sink_;
};

} // namespace ofwatchdog::http
