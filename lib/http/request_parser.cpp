#include "http/request_parser.hpp"

#include "util/llhttp_callbacks.hpp"

namespace ofwatchdog::http {

namespace {
// RFC 9110 token characters. llhttp built without its compile-time strict mode lets some others
// (such as a space) into header names, which Go's server refuses, so the names are checked here.
bool is_token_char(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
  case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
  case '.': case '^': case '_': case '`': case '|': case '~':
    return true;
  default:
    return false;
  }
}

bool valid_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_token_char(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Control characters other than tab are not allowed in a field value.
bool valid_field_value(std::string_view value) {
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
  }
  return true;
}
} // namespace

const llhttp_settings_t& RequestParser::settings() {
  static const llhttp_settings_t kSettings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &llhttp_event<&RequestParser::on_message_begin>;
    s.on_url = &llhttp_data<&RequestParser::on_url>;
    s.on_header_field = &llhttp_data<&RequestParser::on_header_field>;
    s.on_header_value = &llhttp_data<&RequestParser::on_header_value>;
    s.on_header_value_complete = &llhttp_event<&RequestParser::on_header_value_complete>;
    s.on_headers_complete = &llhttp_event<&RequestParser::on_headers_complete>;
    s.on_body = &llhttp_data<&RequestParser::on_body>;
    s.on_message_complete = &llhttp_event<&RequestParser::on_message_complete>;
    return s;
  }();
  return kSettings;
}

RequestParser::RequestParser(std::size_t max_header_bytes) : max_header_bytes_(max_header_bytes) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
  // Every lenient mode is a request-smuggling risk; they are off by default and stay off.
  llhttp_set_lenient_headers(&parser_, 0);
  llhttp_set_lenient_chunked_length(&parser_, 0);
  llhttp_set_lenient_keep_alive(&parser_, 0);
  llhttp_set_lenient_transfer_encoding(&parser_, 0);
}

RequestParser::Result RequestParser::feed(const char* data, std::size_t len) {
  Result result;
  if (error_ != Error::none) {
    result.status = Status::error;
    return result;
  }
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  bool was_in_head = !head_complete_;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    result.consumed = len;
  } else if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    result.consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
    paused_ = true;
    if (err == HPE_PAUSED_UPGRADE) {
      upgrade_ = true;
    }
  } else {
    error_ = Error::bad_request;
    error_reason_ = llhttp_errno_name(err);
    if (const char* reason = llhttp_get_error_reason(&parser_)) {
      error_reason_ += std::string(": ") + reason;
    }
    result.status = Status::error;
    return result;
  }

  // The head's size is counted in bytes consumed before its end, which is exact because the
  // parser stops right after the head.
  if (was_in_head && in_message_) {
    head_bytes_ += result.consumed;
    if (head_bytes_ > max_header_bytes_) {
      error_ = Error::header_too_large;
      result.status = Status::error;
      return result;
    }
  }
  if (message_complete_) {
    message_complete_ = false;
    in_message_ = false;
    head_complete_ = false;
    result.status = Status::message_done;
  } else if (paused_ && head_complete_ && was_in_head) {
    result.status = Status::head_done;
  } else if (paused_ && upgrade_) {
    // A pause for an upgrade without a message end cannot happen for requests; treat the rest
    // of the connection as not HTTP.
    result.status = Status::message_done;
  }
  return result;
}

int RequestParser::on_message_begin() {
  in_message_ = true;
  head_bytes_ = 0;
  request_ = Request{};
  field_.clear();
  value_.clear();
  return 0;
}

int RequestParser::on_url(const char* at, std::size_t length) {
  request_.target.append(at, length);
  return 0;
}

int RequestParser::on_header_field(const char* at, std::size_t length) {
  field_.append(at, length);
  return 0;
}

int RequestParser::on_header_value(const char* at, std::size_t length) {
  value_.append(at, length);
  return 0;
}

int RequestParser::on_header_value_complete() {
  // llhttp skips leading whitespace of a value but may keep trailing whitespace.
  while (!value_.empty() && (value_.back() == ' ' || value_.back() == '\t')) {
    value_.pop_back();
  }
  if (!valid_field_name(field_) || !valid_field_value(value_)) {
    llhttp_set_error_reason(&parser_, "invalid header field");
    return HPE_USER;
  }
  request_.headers.push_back(Header{std::move(field_), std::move(value_)});
  field_.clear();
  value_.clear();
  return 0;
}

int RequestParser::on_headers_complete() {
  head_complete_ = true;
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  request_.version_major = parser_.http_major;
  request_.version_minor = parser_.http_minor;
  if ((parser_.flags & F_CONTENT_LENGTH) != 0) {
    request_.content_length = parser_.content_length;
  }
  request_.chunked = (parser_.flags & F_CHUNKED) != 0;
  if (parser_.upgrade != 0) {
    upgrade_ = true;
  }
  return HPE_PAUSED;
}

int RequestParser::on_body(const char* at, std::size_t length) {
  if (body_sink_) {
    body_sink_(std::string_view(at, length));
  }
  return 0;
}

int RequestParser::on_message_complete() {
  message_complete_ = true;
  return HPE_PAUSED;
}

} // namespace ofwatchdog::http
