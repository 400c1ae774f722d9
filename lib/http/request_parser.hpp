#pragma once
// llhttp (strict: every lenient flag off) wrapped for one connection.
//
// The parser stops twice per message: once the head is complete, so the connection can decide
// what to do with the request before any body byte is taken, and once the message is complete,
// so pipelined requests are handled one at a time. It never allocates for the body: body bytes
// are handed out as spans of the caller's buffer.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <llhttp.h>

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
  enum class Error { none, bad_request, header_too_large };

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
  // llhttp's explanation of a bad_request, for debugging.
  std::string_view error_reason() const { return error_reason_; }

private:
  static const llhttp_settings_t& settings();

  int on_message_begin();
  int on_url(const char* at, std::size_t length);
  int on_header_field(const char* at, std::size_t length);
  int on_header_value(const char* at, std::size_t length);
  int on_header_value_complete();
  int on_headers_complete();
  int on_body(const char* at, std::size_t length);
  int on_message_complete();

  llhttp_t parser_{};
  std::size_t max_header_bytes_;
  std::size_t head_bytes_ = 0;
  bool paused_ = false;
  bool in_message_ = false;
  bool head_complete_ = false;
  bool message_complete_ = false;
  bool upgrade_ = false;
  Error error_ = Error::none;
  std::string error_reason_;
  Request request_;
  std::string field_;
  std::string value_;
  std::function<void(std::string_view)> body_sink_;
};

} // namespace ofwatchdog::http
