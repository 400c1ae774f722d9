#include "http/response_writer.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "http/status_text.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::http {

namespace {
// Builds a head in a buffer sized beforehand: each piece is one memcpy at a cursor, where
// std::string's append checks capacity and size for each of the thirty-odd pieces of a head.
class HeadCursor {
public:
  explicit HeadCursor(char* at) : at_(at) {}

  void put(std::string_view text) {
    if (text.empty())
      return; // (an empty view may hold a null pointer, which memcpy must not be given)
    std::memcpy(at_, text.data(), text.size());
    at_ += text.size();
  }

  // A CR or LF in a name or value would end the header line early (response splitting): each
  // becomes a space.
  void put_sanitised(std::string_view text) {
    for (char c : text)
      *at_++ = (c == '\r' || c == '\n') ? ' ' : c;
  }

  template <typename Integer> void put_number(Integer value) {
    auto [end, ec] = std::to_chars(at_, at_ + kMaxDigits, value);
    at_ = end;
  }

  char* at() const { return at_; }

  static constexpr std::size_t kMaxDigits = 20; // 2^64 - 1 has 20 decimal digits

private:
  char* at_;
};

bool framing_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding");
}
} // namespace

Framing choose_framing(std::string_view method, bool http10_client, int status,
                       std::optional<std::uint64_t> content_length) {
  Framing framing;
  if ((status >= 100 && status < 200) || status == 204) {
    framing.body_allowed = false;
    return framing;
  }
  if (status == 304 || method == "HEAD") {
    framing.body_allowed = false;
    framing.content_length = content_length;
    return framing;
  }
  if (content_length) {
    framing.content_length = content_length;
  } else if (http10_client) {
    framing.close_delimited = true;
  } else {
    framing.chunked = true;
  }
  return framing;
}

std::string serialize_head(int status, const HeaderList& headers, const Framing& framing,
                           std::string_view date, std::string_view connection) {
  std::string reason = status_reason(status);
  // Room for the longest head these pieces can make: the fixed text of every optional line,
  // the numbers at their widest, and each header as given.
  constexpr std::string_view kFixed = "HTTP/1.1  \r\n"
                                      "Date: \r\n"
                                      "Content-Length: \r\n"
                                      "Transfer-Encoding: chunked\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Connection: \r\n"
                                      "\r\n";
  std::size_t room =
      kFixed.size() + 2 * HeadCursor::kMaxDigits + reason.size() + date.size() + connection.size();
  for (const Header& h : headers)
    room += h.name.size() + h.value.size() + 4;
  std::string out(room, '\0');
  HeadCursor head(out.data());
  head.put("HTTP/1.1 ");
  head.put_number(status);
  head.put(" ");
  head.put(reason);
  head.put("\r\n");
  bool has_date = false;
  bool has_connection = false;
  for (const Header& h : headers) {
    if (framing_header(h.name))
      continue;
    if (iequals(h.name, "Connection")) {
      if (!framing.tunnel)
        continue;
      has_connection = true;
    }
    if (iequals(h.name, "Date"))
      has_date = true;
    head.put_sanitised(h.name);
    head.put(": ");
    head.put_sanitised(h.value);
    head.put("\r\n");
  }
  if (!has_date) {
    head.put("Date: ");
    head.put(date);
    head.put("\r\n");
  }
  if (framing.content_length) {
    head.put("Content-Length: ");
    head.put_number(*framing.content_length);
    head.put("\r\n");
  }
  if (framing.chunked)
    head.put("Transfer-Encoding: chunked\r\n");
  if (framing.tunnel) {
    // RFC 9110 §7.8: a 101 lists the upgrade in Connection; the server's own choice
    // (keep-alive or close) means nothing once the protocol has switched.
    if (!has_connection)
      head.put("Connection: Upgrade\r\n");
  } else if (!connection.empty()) {
    head.put("Connection: ");
    head.put(connection);
    head.put("\r\n");
  }
  head.put("\r\n");
  out.resize(static_cast<std::size_t>(head.at() - out.data()));
  return out;
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) {
    return;
  }
  fmt::format_to(std::back_inserter(out), "{:x}\r\n", data.size());
  out.append(data);
  out += "\r\n";
}

std::string_view chunk_header(char* out, std::size_t size) {
  char* end = fmt::format_to(out, "{:x}\r\n", size);
  return std::string_view(out, static_cast<std::size_t>(end - out));
}

} // namespace ofwatchdog::http
