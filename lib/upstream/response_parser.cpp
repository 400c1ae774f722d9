// The upstream response parser; see response_parser.hpp.
#include "upstream/response_parser.hpp"

#include "util/field_syntax.hpp"
#include "util/llhttp_callbacks.hpp"

#include <fmt/format.h>

namespace ofwatchdog::upstream {

const llhttp_settings_t& ResponseParser::settings() {
  static const llhttp_settings_t kSettings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &llhttp_event<&ResponseParser::on_message_begin>;
    s.on_status = &llhttp_data<&ResponseParser::on_status>;
    s.on_header_field = &llhttp_data<&ResponseParser::on_header_field>;
    s.on_header_value = &llhttp_data<&ResponseParser::on_header_value>;
    s.on_header_value_complete = &llhttp_event<&ResponseParser::on_header_value_complete>;
    s.on_headers_complete = &llhttp_event<&ResponseParser::on_headers_complete>;
    s.on_body = &llhttp_data<&ResponseParser::on_body>;
    s.on_message_complete = &llhttp_event<&ResponseParser::on_message_complete>;
    return s;
  }();
  return kSettings;
}

ResponseParser::ResponseParser(ResponseEvents& events, std::size_t max_head_bytes)
    : events_(events), max_head_bytes_(max_head_bytes) {
  begin("GET");
}

void ResponseParser::begin(std::string_view method) {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings());
  parser_.data = this;
  // Lenient parsing is a response-splitting risk: a confused proxy could hand one client's
  // bytes to another. Everything stays strict.
  llhttp_set_lenient_headers(&parser_, 0);
  llhttp_set_lenient_chunked_length(&parser_, 0);
  llhttp_set_lenient_keep_alive(&parser_, 0);
  llhttp_set_lenient_transfer_encoding(&parser_, 0);
  head_request_ = method == "HEAD";
  head_bytes_ = 0;
  interim_ = false;
  started_ = false;
  head_delivered_ = false;
  complete_ = false;
  keep_alive_ = false;
  failed_ = false;
  error_text_.clear();
  response_ = UpstreamResponse{};
  field_.clear();
  value_.clear();
}

ResponseParser::Result ResponseParser::feed(const char* data, std::size_t len) {
  Result result;
  if (failed_) {
    result.status = Status::error;
    return result;
  }
  if (complete_) {
    result.status = Status::complete;
    return result;
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    result.consumed = len;
  } else if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    result.consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
  } else {
    failed_ = true;
    if (error_text_.empty()) {
      const char* reason = llhttp_get_error_reason(&parser_);
      error_text_ =
          fmt::format("malformed HTTP response: {}", reason ? reason : llhttp_errno_name(err));
    }
    result.status = Status::error;
    return result;
  }
  if (complete_)
    result.status = Status::complete;
  return result;
}

bool ResponseParser::finish() {
  if (failed_ || complete_)
    return complete_;
  // Only a body delimited by the close ends cleanly here; llhttp says so by completing it.
  // llhttp reports our pause from on_message_complete as its result, so the flag decides.
  if (head_delivered_)
    llhttp_finish(&parser_);
  return complete_;
}

bool ResponseParser::count_head_bytes(std::size_t length) {
  // The head's text is what a hostile or broken upstream could make endless; the framing bytes
  // around it are bounded by it.
  head_bytes_ += length;
  if (head_bytes_ <= max_head_bytes_)
    return true;
  error_text_ = fmt::format("server response headers exceeded {} bytes", max_head_bytes_);
  return false;
}

int ResponseParser::on_message_begin() {
  started_ = true;
  interim_ = false;
  response_ = UpstreamResponse{};
  // Room for a typical head at once, instead of growing the list header by header.
  response_.headers.reserve(kTypicalHeaders);
  field_.clear();
  value_.clear();
  return 0;
}

int ResponseParser::on_status(const char* at, std::size_t length) {
  if (!count_head_bytes(length))
    return HPE_USER;
  response_.reason.append(at, length);
  return 0;
}

int ResponseParser::on_header_field(const char* at, std::size_t length) {
  if (!count_head_bytes(length))
    return HPE_USER;
  field_.append(at, length);
  return 0;
}

int ResponseParser::on_header_value(const char* at, std::size_t length) {
  if (!count_head_bytes(length))
    return HPE_USER;
  value_.append(at, length);
  return 0;
}

int ResponseParser::on_header_value_complete() {
  while (!value_.empty() && (value_.back() == ' ' || value_.back() == '\t'))
    value_.pop_back();
  // A NUL or a lone CR relayed to the client could end a header line there for some clients
  // (response splitting); Go's client refuses such a response too.
  if (!valid_field_name(field_) || !valid_field_value(value_)) {
    error_text_ = "malformed MIME header line";
    return HPE_USER;
  }
  response_.headers.push_back(Header{std::move(field_), std::move(value_)});
  field_.clear();
  value_.clear();
  return 0;
}

int ResponseParser::on_headers_complete() {
  int status = parser_.status_code;
  response_.status = status;
  if (status >= 100 && status < 200 && status != 101) {
    // 100 Continue, 103 Early Hints: informational, the final response follows.
    interim_ = true;
    return 0;
  }
  if ((parser_.flags & F_CONTENT_LENGTH) != 0 && (parser_.flags & F_CHUNKED) == 0)
    response_.content_length = parser_.content_length;
  response_.chunked = (parser_.flags & F_CHUNKED) != 0;
  response_.switching_protocols = status == 101;
  head_delivered_ = true;
  events_.on_response_head(response_);
  // A HEAD response describes a body it does not carry; llhttp is told to expect none.
  return head_request_ ? 1 : 0;
}

int ResponseParser::on_body(const char* at, std::size_t length) {
  if (!interim_)
    events_.on_response_body(std::string_view(at, length));
  return 0;
}

int ResponseParser::on_message_complete() {
  if (interim_) {
    interim_ = false;
    head_bytes_ = 0;
    started_ = true;
    // Reported once the interim response is whole, so a relayed 100 never runs ahead of
    // bytes the upstream has not finished sending.
    if (response_.status == 100)
      events_.on_continue();
    return 0;
  }
  complete_ = true;
  keep_alive_ = !response_.switching_protocols && llhttp_should_keep_alive(&parser_) != 0;
  return HPE_PAUSED;
}

} // namespace ofwatchdog::upstream
