#include "http/request_parser.hpp"

#include "util/field_syntax.hpp"
#include "util/llhttp_callbacks.hpp"

namespace ofwatchdog::http {

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
    s.on_chunk_extension_name = &llhttp_data<&RequestParser::on_chunk_extension>;
    s.on_chunk_extension_value = &llhttp_data<&RequestParser::on_chunk_extension>;
    s.on_chunk_header = &llhttp_event<&RequestParser::on_chunk_header>;
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
  if (!in_message_) {
    lines_.begin_head();
  }
  bool was_in_head = !head_complete_;
  llhttp_errno_t err = execute(data, len, result.consumed);
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    paused_ = true;
    if (err == HPE_PAUSED_UPGRADE) {
      upgrade_ = true;
    }
  } else if (err != HPE_OK) {
    if (error_ == Error::none) {
      error_ = Error::bad_request;
      error_reason_ = llhttp_errno_name(err);
      if (const char* reason = llhttp_get_error_reason(&parser_)) {
        error_reason_ += std::string(": ") + reason;
      }
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
      error_reason_ = "request head over the size limit";
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

llhttp_errno_t RequestParser::execute(const char* data, std::size_t len, std::size_t& consumed) {
  consumed = 0;
  feed_end_ = data + len;
  // The CRLF after a chunk's data may begin in this piece: llhttp reads those bytes first.
  if (chunk_crlf_due_ > 0 && !chunk_end_ok(data, data + len)) {
    return HPE_USER;
  }
  while (true) {
    // Heads and trailer sections get the line checks llhttp does not make; bodies do not.
    bool in_trailers = in_trailers_; // the message end clears it
    bool in_head = !head_complete_;
    bool in_lines = in_head || in_trailers;
    llhttp_errno_t err = llhttp_execute(&parser_, data + consumed, len - consumed);
    if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) {
      return err;
    }
    std::size_t used =
        err == HPE_OK
            ? len - consumed
            : static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - (data + consumed));
    if (in_lines) {
      std::string_view fault = lines_.scan(std::string_view(data + consumed, used));
      if (!fault.empty()) {
        fail(Error::bad_request, std::string(fault));
        return HPE_USER;
      }
      if (in_trailers) {
        trailer_bytes_ += used;
        if (trailer_bytes_ > max_header_bytes_) {
          fail(Error::header_too_large, "trailer section over the size limit");
          return HPE_USER;
        }
      }
      // Checked once the whole request line has been scanned, before the head is handed out.
      if (in_head && head_complete_ && !lines_.request_line_is_http()) {
        fail(Error::bad_request, "the request line's protocol is not HTTP");
        return HPE_USER;
      }
    }
    consumed += used;
    if (err == HPE_PAUSED && last_chunk_stop_) {
      // The stop after the last-chunk line only marks where the trailer section starts; the
      // caller never sees it.
      last_chunk_stop_ = false;
      in_trailers_ = true;
      trailer_bytes_ = 0;
      lines_.begin_trailers();
      llhttp_resume(&parser_);
      continue;
    }
    return err;
  }
}

bool RequestParser::chunk_end_ok(const char* from, const char* to) {
  while (chunk_crlf_due_ > 0 && from < to) {
    char expected = chunk_crlf_due_ == 2 ? '\r' : '\n';
    if (*from != expected) {
      fail(Error::bad_request, "chunk data not followed by CRLF");
      return false;
    }
    --chunk_crlf_due_;
    ++from;
  }
  return true;
}

int RequestParser::fail(Error error, std::string reason) {
  if (error_ == Error::none) {
    error_ = error;
    error_reason_ = std::move(reason);
  }
  return -1;
}

void RequestParser::skip_to_message_end() {
  // llhttp_reset keeps the settings, the callbacks' data and the lenient flags (all off).
  llhttp_reset(&parser_);
  paused_ = false;
  in_message_ = false;
  head_complete_ = false;
  message_complete_ = false;
  in_trailers_ = false;
  last_chunk_stop_ = false;
  chunk_left_ = 0;
  chunk_crlf_due_ = 0;
}

int RequestParser::on_message_begin() {
  in_message_ = true;
  head_bytes_ = 0;
  in_trailers_ = false;
  extension_bytes_ = 0;
  chunk_left_ = 0;
  chunk_crlf_due_ = 0;
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
    return fail(Error::bad_request,
                in_trailers_ ? "invalid trailer field" : "invalid header field");
  }
  if (in_trailers_) {
    // Trailers are checked like header fields, then dropped: no mode forwards them.
    field_.clear();
    value_.clear();
    return 0;
  }
  if (request_.headers.size() >= kMaxHeaderCount) {
    return fail(Error::header_too_large, "more than 10000 header fields");
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
  // A CONNECT request has no content (RFC 9110 9.3.6): what follows its head is the tunnel,
  // which llhttp hands over unparsed. A length or a coding on one would make the server and a
  // mode disagree on where a body ends, so it is refused (a zero length says nothing).
  if (parser_.method == HTTP_CONNECT &&
      (request_.chunked || (request_.content_length && *request_.content_length > 0))) {
    return fail(Error::bad_request, "a CONNECT request with a body");
  }
  CodingVerdict coding = judge_transfer_coding(request_.headers);
  // Our reading of the field and llhttp's must agree: llhttp does not take `chunked` followed
  // by a tab as chunked, and would then refuse the message only after this head was handed
  // out. Such a head is refused here, before any mode sees it.
  if (coding == CodingVerdict::chunked && !request_.chunked) {
    return fail(Error::bad_request, "Transfer-Encoding not read as chunked by the parser");
  }
  if (coding != CodingVerdict::none) {
    // Each of these would let two peers disagree on where the body ends.
    if ((parser_.flags & F_CONTENT_LENGTH) != 0) {
      return fail(Error::bad_request, "both Content-Length and Transfer-Encoding");
    }
    if (coding == CodingVerdict::malformed) {
      return fail(Error::bad_request, "malformed Transfer-Encoding");
    }
    if (coding == CodingVerdict::unsupported) {
      return fail(Error::not_implemented, "unsupported transfer coding");
    }
    if (request_.version_major == 1 && request_.version_minor == 0) {
      return fail(Error::bad_request, "Transfer-Encoding in an HTTP/1.0 request");
    }
  }
  if (parser_.upgrade != 0) {
    upgrade_ = true;
  }
  return HPE_PAUSED;
}

int RequestParser::on_body(const char* at, std::size_t length) {
  // llhttp closes an open body span at the end of every execute, also one fed no bytes (as the
  // connection does when a paused body is resumed with nothing new read). An empty piece
  // tells a handler nothing, and one that pauses on every piece would spin on them.
  if (length == 0)
    return 0;
  if (body_sink_) {
    body_sink_(std::string_view(at, length));
  }
  if (request_.chunked) {
    chunk_left_ -= length < chunk_left_ ? length : chunk_left_;
    if (chunk_left_ == 0) {
      chunk_crlf_due_ = 2;
      if (!chunk_end_ok(at + length, feed_end_))
        return -1;
    }
  }
  return 0;
}

int RequestParser::on_chunk_extension(const char*, std::size_t length) {
  extension_bytes_ += length;
  if (extension_bytes_ > kMaxChunkExtensionBytes) {
    return fail(Error::bad_request, "chunk extensions over 16 KiB");
  }
  return 0;
}

int RequestParser::on_chunk_header() {
  if (parser_.content_length > kMaxChunkSize) {
    return fail(Error::bad_request, "chunk size too large");
  }
  if (parser_.content_length == 0) {
    last_chunk_stop_ = true;
    return HPE_PAUSED;
  }
  chunk_left_ = parser_.content_length;
  return 0;
}

int RequestParser::on_message_complete() {
  in_trailers_ = false;
  message_complete_ = true;
  return HPE_PAUSED;
}

} // namespace ofwatchdog::http
