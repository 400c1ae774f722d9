// The static mode's content types; see mime_types.hpp.
#include "modes/static/mime_types.hpp"

#include <array>
#include <string>
#include <utility>

#include "util/strings.hpp"

namespace ofwatchdog::modes::static_files {

namespace {

// The original's built-in entries first (Go's mime package), then common web types that the
// original would only have found in a host's MIME database.
constexpr std::array<std::pair<std::string_view, std::string_view>, 37> kTypes{{
    {".avif", "image/avif"},
    {".css", "text/css; charset=utf-8"},
    {".gif", "image/gif"},
    {".htm", "text/html; charset=utf-8"},
    {".html", "text/html; charset=utf-8"},
    {".jpeg", "image/jpeg"},
    {".jpg", "image/jpeg"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".pdf", "application/pdf"},
    {".png", "image/png"},
    {".svg", "image/svg+xml"},
    {".wasm", "application/wasm"},
    {".webp", "image/webp"},
    {".xml", "text/xml; charset=utf-8"},
    {".bmp", "image/bmp"},
    {".csv", "text/csv; charset=utf-8"},
    {".gz", "application/gzip"},
    {".ico", "image/vnd.microsoft.icon"},
    {".map", "application/json"},
    {".md", "text/markdown; charset=utf-8"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".oga", "audio/ogg"},
    {".ogg", "audio/ogg"},
    {".otf", "font/otf"},
    {".tar", "application/x-tar"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".wav", "audio/wav"},
    {".webm", "video/webm"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".zip", "application/zip"},
}};

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Bytes that mark data as binary in the WHATWG sniffing rules: C0 controls other than the
// usual white space and ESC.
bool is_binary_byte(unsigned char c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1A) || (c >= 0x1C && c <= 0x1F) ||
         c == 0x7F;
}

// Length of the UTF-8 sequence introduced by `lead`, or 0 when it cannot start one.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

// Valid UTF-8 with no binary bytes; a sequence cut off by the end of the sample is accepted.
bool is_utf8_text(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size()) {
    auto lead = static_cast<unsigned char>(data[i]);
    std::size_t length = sequence_length(lead);
    if (length == 0)
      return false;
    if (length == 1) {
      if (is_binary_byte(lead))
        return false;
      ++i;
      continue;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if (i + k >= data.size())
        return true; // cut off by the sample's end
      auto next = static_cast<unsigned char>(data[i + k]);
      if ((next & 0xC0) != 0x80)
        return false;
      // Overlong three- and four-byte forms, UTF-16 surrogates and code points past U+10FFFF.
      if (k == 1 && ((lead == 0xE0 && next < 0xA0) || (lead == 0xED && next > 0x9F) ||
                     (lead == 0xF0 && next < 0x90) || (lead == 0xF4 && next > 0x8F)))
        return false;
    }
    i += length;
  }
  return true;
}

} // namespace

std::optional<std::string_view> content_type_for_name(std::string_view name) {
  std::size_t slash = name.rfind('/');
  if (slash != std::string_view::npos)
    name.remove_prefix(slash + 1);
  std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  std::string extension = to_lower(name.substr(dot));
  for (const auto& [ext, type] : kTypes) {
    if (ext == extension)
      return type;
  }
  return std::nullopt;
}

std::string_view sniff_content_type(std::string_view head) {
  if (head.size() > kSniffBytes)
    head = head.substr(0, kSniffBytes);
  std::string_view rest = head;
  while (!rest.empty() && is_space(static_cast<unsigned char>(rest.front())))
    rest.remove_prefix(1);
  for (std::string_view marker : {std::string_view("<!doctype html"), std::string_view("<html")}) {
    // The tag must end there (a space or `>`), so `<htmlfoo` is not HTML.
    if (istarts_with(rest, marker) && rest.size() > marker.size()) {
      char after = rest[marker.size()];
      if (after == ' ' || after == '>')
        return "text/html; charset=utf-8";
    }
  }
  if (is_utf8_text(head))
    return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

} // namespace ofwatchdog::modes::static_files
