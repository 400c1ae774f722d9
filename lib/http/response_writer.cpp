#include "http/response_writer.hpp"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

#include "http/status_text.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::http {

namespace {
// A CR or LF in a name or value would end the header line early (response splitting): each
// becomes a space. Most text has none and is appended whole.
void append_sanitised(std::string& out, std::string_view text) {
  // (A plain loop: find_first_of with a set calls memchr once per byte of the text.)
  std::size_t start = out.size();
  out.append(text);
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n')
      out[i] = ' ';
  }
}

template <typename Integer> void append_number(std::string& out, Integer value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<std::size_t>(end - digits));
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
  // One allocation: the head's size is known before it is built, give or take the fixed lines.
  constexpr std::size_t kFixedLines = 160; // status line, Date, length or chunked, Connection
  std::size_t size = kFixedLines + date.size() + connection.size();
  for (const Header& h : headers)
    size += h.name.size() + h.value.size() + 4;
  std::string out;
  out.reserve(size);
  out.append("HTTP/1.1 ");
  append_number(out, status);
  out.push_back(' ');
  out.append(status_reason(status));
  out.append("\r\n");
  bool has_date = false;
  bool has_connection = false;
  for (const Header& h : headers) {
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding")) {
      continue;
    }
    if (iequals(h.name, "Connection")) {
      if (!framing.tunnel) {
        continue;
      }
      has_connection = true;
    }
    if (iequals(h.name, "Date")) {
      has_date = true;
    }
    append_sanitised(out, h.name);
    out += ": ";
    append_sanitised(out, h.value);
    out += "\r\n";
  }
  if (!has_date) {
    out += "Date: ";
    out += date;
    out += "\r\n";
  }
  if (framing.content_length) {
    out += "Content-Length: ";
    append_number(out, *framing.content_length);
    out += "\r\n";
  }
  if (framing.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  if (framing.tunnel) {
    // RFC 9110 §7.8: a 101 lists the upgrade in Connection; the server's own choice
    // (keep-alive or close) means nothing once the protocol has switched.
    if (!has_connection) {
      out += "Connection: Upgrade\r\n";
    }
  } else if (!connection.empty()) {
    out += "Connection: ";
    out += connection;
    out += "\r\n";
  }
  out += "\r\n";
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
