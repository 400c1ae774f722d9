#pragma once
// llhttp in HTTP_RESPONSE mode (strict: every lenient flag off) for one upstream connection.
//
// One response per `begin`: interim 1xx responses are skipped, except 101, which ends the
// HTTP part of the connection (what follows is tunnel bytes, reported by `Result::rest`), and
// 100, which is reported (`on_continue`) for a proxy relaying the upstream's answer to
// `Expect: 100-continue`.
// The parser stops at the end of the response, so bytes after it are never mistaken for the
// next one: a well-behaved upstream sends nothing until it is asked again.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <llhttp.h>

#include "ofwatchdog/exchange.hpp"

namespace ofwatchdog::upstream {

struct UpstreamResponse {
  int status = 0;
  std::string reason; // the upstream's reason phrase, as sent
  HeaderList headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool switching_protocols = false; // 101: the connection is a tunnel from here on
};

class ResponseEvents {
public:
  virtual ~ResponseEvents() = default;
  virtual void on_response_head(UpstreamResponse& response) = 0;
  // An interim `100 Continue` arrived: the upstream wants the request body.
  virtual void on_continue() {}
  // Body bytes (de-chunked); the view is valid only during the call.
  virtual void on_response_body(std::string_view data) = 0;
};

class ResponseParser {
public:
  enum class Status {
    need_more, // all bytes consumed, the response is not complete
    complete,  // the response is complete; `consumed` says where it ended
    error,     // malformed, or the head is too large; see error_text()
  };
  struct Result {
    Status status = Status::need_more;
    std::size_t consumed = 0;
  };

  ResponseParser(ResponseEvents& events, std::size_t max_head_bytes);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Prepares for the response to a request with this method (a HEAD response has no body).
  void begin(std::string_view method);
  Result feed(const char* data, std::size_t len);
  // The connection reached EOF. True when that completes a response delimited by the close.
  bool finish();

  // After `complete`: the connection may carry another request.
  bool keep_alive() const { return keep_alive_; }
  // True once the head of the final response has been delivered.
  bool head_delivered() const { return head_delivered_; }
  // True once any byte of a response arrived (interim ones included).
  bool started() const { return started_; }
  const std::string& error_text() const { return error_text_; }

private:
  static constexpr std::size_t kTypicalHeaders = 12;
  static const llhttp_settings_t& settings();

  bool count_head_bytes(std::size_t length);
  int on_message_begin();
  int on_status(const char* at, std::size_t length);
  int on_header_field(const char* at, std::size_t length);
  int on_header_value(const char* at, std::size_t length);
  int on_header_value_complete();
  int on_headers_complete();
  int on_body(const char* at, std::size_t length);
  int on_message_complete();

  ResponseEvents& events_;
  llhttp_t parser_{};
  std::size_t max_head_bytes_;
  std::size_t head_bytes_ = 0;
  bool head_request_ = false;
  bool interim_ = false;
  bool started_ = false;
  bool head_delivered_ = false;
  bool complete_ = false;
  bool keep_alive_ = false;
  bool failed_ = false;
  std::string error_text_;
  UpstreamResponse response_;
  std::string field_;
  std::string value_;
};

} // namespace ofwatchdog::upstream
