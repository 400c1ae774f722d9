#include "http/content_sniff.hpp"

#include <array>
#include <cstdint>

namespace ofwatchdog::http {

namespace {

bool is_sniff_space(unsigned char c) {
  return c == '\t' || c == '\n' || c == '\x0c' || c == '\r' || c == ' ';
}

std::string_view skip_space(std::string_view data) {
  while (!data.empty() && is_sniff_space(static_cast<unsigned char>(data.front())))
    data.remove_prefix(1);
  return data;
}

// An HTML tag: case-insensitive, after white space, and followed by a space or `>`.
bool html_tag(std::string_view data, std::string_view tag) {
  data = skip_space(data);
  if (data.size() <= tag.size())
    return false;
  for (std::size_t i = 0; i < tag.size(); ++i) {
    auto want = static_cast<unsigned char>(tag[i]);
    auto have = static_cast<unsigned char>(data[i]);
    if (want >= 'A' && want <= 'Z')
      have &= 0xDF; // upper-case a letter of the data
    if (have != want)
      return false;
  }
  char after = data[tag.size()];
  return after == ' ' || after == '>';
}

bool starts_with(std::string_view data, std::string_view prefix) {
  return data.substr(0, prefix.size()) == prefix;
}

// An ISO base media file whose `ftyp` box names an `mp4` brand.
bool mp4(std::string_view data) {
  if (data.size() < 12)
    return false;
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i]));
  };
  std::uint32_t box = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
  if (data.size() < box || box % 4 != 0 || data.substr(4, 4) != "ftyp")
    return false;
  for (std::size_t at = 8; at < box; at += 4) {
    if (at == 12)
      continue; // the minor version, not a brand
    if (data.substr(at, 3) == "mp4")
      return true;
  }
  return false;
}

// Text: nothing after the leading white space is a byte that marks binary data.
bool text(std::string_view data) {
  for (char c : skip_space(data)) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x08 || b == 0x0B || (b >= 0x0E && b <= 0x1A) || (b >= 0x1C && b <= 0x1F))
      return false;
  }
  return true;
}

using namespace std::string_view_literals;

constexpr std::array kHtmlTags = {
    "<!DOCTYPE HTML"sv,
    "<HTML"sv,
    "<HEAD"sv,
    "<SCRIPT"sv,
    "<IFRAME"sv,
    "<H1"sv,
    "<DIV"sv,
    "<FONT"sv,
    "<TABLE"sv,
    "<A"sv,
    "<STYLE"sv,
    "<TITLE"sv,
    "<B"sv,
    "<BODY"sv,
    "<BR"sv,
    "<P"sv,
    "<!--"sv,
};

// How a signature is recognised.
enum class Match {
  prefix, // the data starts with `pattern`
  bom,    // a byte-order mark: `pattern`, in data of at least four bytes
  riff,   // a container: `pattern` (its tag), any four bytes of length, then `form`
  mp4,    // an ISO base media file naming an mp4 brand (see mp4 above)
  eot,    // embedded OpenType: `LP` at offset 34, whatever comes before
};

struct Signature {
  Match match;
  std::string_view pattern;
  std::string_view form;
  std::string_view type;
};

// Every signature after the HTML tags and XML, in the order of the original's table: the first
// that matches wins.
constexpr std::array kSignatures = {
    Signature{Match::prefix, "%PDF-"sv, {}, "application/pdf"sv},
    Signature{Match::prefix, "%!PS-Adobe-"sv, {}, "application/postscript"sv},
    Signature{Match::bom, "\xFE\xFF"sv, {}, "text/plain; charset=utf-16be"sv},
    Signature{Match::bom, "\xFF\xFE"sv, {}, "text/plain; charset=utf-16le"sv},
    Signature{Match::bom, "\xEF\xBB\xBF"sv, {}, "text/plain; charset=utf-8"sv},
    Signature{Match::prefix, "\x00\x00\x01\x00"sv, {}, "image/x-icon"sv},
    Signature{Match::prefix, "\x00\x00\x02\x00"sv, {}, "image/x-icon"sv},
    Signature{Match::prefix, "BM"sv, {}, "image/bmp"sv},
    Signature{Match::prefix, "GIF87a"sv, {}, "image/gif"sv},
    Signature{Match::prefix, "GIF89a"sv, {}, "image/gif"sv},
    Signature{Match::riff, "RIFF"sv, "WEBPVP"sv, "image/webp"sv},
    Signature{Match::prefix, "\x89PNG\x0D\x0A\x1A\x0A"sv, {}, "image/png"sv},
    Signature{Match::prefix, "\xFF\xD8\xFF"sv, {}, "image/jpeg"sv},
    Signature{Match::riff, "FORM"sv, "AIFF"sv, "audio/aiff"sv},
    Signature{Match::prefix, "ID3"sv, {}, "audio/mpeg"sv},
    Signature{Match::prefix, "OggS\x00"sv, {}, "application/ogg"sv},
    Signature{Match::prefix, "MThd\x00\x00\x00\x06"sv, {}, "audio/midi"sv},
    Signature{Match::riff, "RIFF"sv, "AVI "sv, "video/avi"sv},
    Signature{Match::riff, "RIFF"sv, "WAVE"sv, "audio/wave"sv},
    Signature{Match::mp4, {}, {}, "video/mp4"sv},
    Signature{Match::prefix, "\x1A\x45\xDF\xA3"sv, {}, "video/webm"sv},
    Signature{Match::eot, {}, {}, "application/vnd.ms-fontobject"sv},
    Signature{Match::prefix, "\x00\x01\x00\x00"sv, {}, "font/ttf"sv},
    Signature{Match::prefix, "OTTO"sv, {}, "font/otf"sv},
    Signature{Match::prefix, "ttcf"sv, {}, "font/collection"sv},
    Signature{Match::prefix, "wOFF"sv, {}, "font/woff"sv},
    Signature{Match::prefix, "wOF2"sv, {}, "font/woff2"sv},
    Signature{Match::prefix, "\x1F\x8B\x08"sv, {}, "application/x-gzip"sv},
    Signature{Match::prefix, "PK\x03\x04"sv, {}, "application/zip"sv},
    Signature{Match::prefix, "Rar!\x1A\x07\x00"sv, {}, "application/x-rar-compressed"sv},
    Signature{Match::prefix, "Rar!\x1A\x07\x01\x00"sv, {}, "application/x-rar-compressed"sv},
    Signature{Match::prefix, "\x00\x61\x73\x6D"sv, {}, "application/wasm"sv},
};

bool matches(std::string_view data, const Signature& signature) {
  switch (signature.match) {
  case Match::prefix:
    return starts_with(data, signature.pattern);
  case Match::bom:
    return data.size() >= 4 && starts_with(data, signature.pattern);
  case Match::riff:
    return data.size() >= 8 + signature.form.size() && starts_with(data, signature.pattern) &&
           data.substr(8, signature.form.size()) == signature.form;
  case Match::mp4:
    return mp4(data);
  case Match::eot:
    return data.size() >= 36 && data.substr(34, 2) == "LP";
  }
  return false;
}

} // namespace

std::string_view sniff_content_type(std::string_view data) {
  if (data.size() > kSniffBytes)
    data = data.substr(0, kSniffBytes);
  for (std::string_view tag : kHtmlTags) {
    if (html_tag(data, tag))
      return "text/html; charset=utf-8";
  }
  if (starts_with(skip_space(data), "<?xml"))
    return "text/xml; charset=utf-8";
  for (const Signature& signature : kSignatures) {
    if (matches(data, signature))
      return signature.type;
  }
  if (text(data))
    return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

} // namespace ofwatchdog::http
