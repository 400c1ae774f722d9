// CgiHeadReader: see cgi_head.hpp.
#include "modes/cgi_head.hpp"

#include <charconv>

#include <fmt/format.h>

#include "upstream/proxy_headers.hpp"
#include "util/field_syntax.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::modes {

namespace {

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// The framing and the connection are the watchdog's: a function that set them could
// contradict the body it sends or the client's connection.
bool owned_by_the_watchdog(std::string_view name) {
  return iequals(name, "Content-Length") || upstream::is_hop_by_hop(name);
}

} // namespace

std::string_view CgiHeadReader::feed(std::string_view data) {
  while (state_ == State::reading && !data.empty()) {
    std::size_t end = data.find('\n');
    std::size_t take = end == std::string_view::npos ? data.size() : end + 1;
    if (head_bytes_ + take > kMaxHeadBytes) {
      fail(fmt::format("the head is longer than {} bytes, or has no empty line to end it",
                       kMaxHeadBytes));
      break;
    }
    head_bytes_ += take;
    if (end == std::string_view::npos) {
      line_.append(data);
      return {};
    }
    line_.append(data.substr(0, end));
    data.remove_prefix(take);
    if (!line_.empty() && line_.back() == '\r')
      line_.pop_back();
    std::string line = std::move(line_);
    line_.clear();
    take_line(line);
  }
  return state_ == State::done ? data : std::string_view();
}

void CgiHeadReader::take_line(std::string_view line) {
  ++lines_;
  if (line.empty()) {
    state_ = State::done;
    return;
  }
  if (line.front() == ' ' || line.front() == '\t') {
    fail(fmt::format("line {} continues the line before it (obsolete line folding)", lines_));
    return;
  }
  std::size_t colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  if (colon == std::string_view::npos || !valid_field_name(name)) {
    fail(fmt::format("line {} is not a header field (Name: value)", lines_));
    return;
  }
  std::string_view value = trim_blanks(line.substr(colon + 1));
  if (!valid_field_value(value)) {
    fail(fmt::format("the value of {} (line {}) has a control character", name, lines_));
    return;
  }
  if (iequals(name, "Status")) {
    if (status_) {
      fail(fmt::format("line {} is a second Status", lines_));
      return;
    }
    // "404" or "404 Not Found": three digits, then the reason after a space. The reason is
    // not sent on: the client gets the standard one (docs/cgi-headers.md).
    int code = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), code);
    std::size_t digits = static_cast<std::size_t>(end - value.data());
    if (error != std::errc() || digits != 3 || (digits < value.size() && value[digits] != ' ')) {
      fail(fmt::format("Status \"{}\" is not a three-digit code with an optional reason",
                       value.substr(0, 64)));
      return;
    }
    if (code < 200 || code > 599) {
      fail(code < 100 || code > 599 ? fmt::format("Status {} is outside 100-599", code)
                                    : fmt::format("Status {} is not a final status (1xx)", code));
      return;
    }
    status_ = code;
    return;
  }
  if (owned_by_the_watchdog(name)) {
    fail(fmt::format("{} is the watchdog's to set, not the function's", name));
    return;
  }
  if (iequals(name, "Location"))
    location_ = true;
  if (iequals(name, "Content-Type"))
    content_type_ = true;
  headers_.push_back(Header{std::string(name), std::string(value)});
}

void CgiHeadReader::fail(std::string why) {
  state_ = State::bad;
  problem_ = std::move(why);
  line_.clear();
}

HeaderList CgiHeadReader::response_headers(std::string_view default_content_type) const {
  HeaderList headers = headers_;
  if (!content_type_)
    headers.insert(headers.begin(), Header{"Content-Type", std::string(default_content_type)});
  return headers;
}

std::string cgi_head_failure_text(std::string_view problem) {
  return fmt::format("Bad Gateway: the function's CGI head is not valid: {}\n", problem);
}

std::string cgi_head_unfinished_text() {
  return "Bad Gateway: the function's output ended inside its CGI head\n";
}

} // namespace ofwatchdog::modes
