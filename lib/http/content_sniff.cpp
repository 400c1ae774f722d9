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

// A pattern where `mask` says which bits of each byte count (`pattern` and `mask` have the
// same length).
bool masked(std::string_view data, std::string_view pattern, std::string_view mask) {
  if (data.size() < pattern.size())
    return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if ((static_cast<unsigned char>(data[i]) & static_cast<unsigned char>(mask[i])) !=
        static_cast<unsigned char>(pattern[i]))
      return false;
  }
  return true;
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

struct Exact {
  std::string_view prefix;
  std::string_view type;
};

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

// In the table's order: the first match wins.
constexpr std::array kExactBeforeBoms = {
    Exact{"%PDF-"sv, "application/pdf"sv},
    Exact{"%!PS-Adobe-"sv, "application/postscript"sv},
};

constexpr std::array kExactAfterBoms = {
    Exact{"\x00\x00\x01\x00"sv, "image/x-icon"sv},
    Exact{"\x00\x00\x02\x00"sv, "image/x-icon"sv},
    Exact{"BM"sv, "image/bmp"sv},
    Exact{"GIF87a"sv, "image/gif"sv},
    Exact{"GIF89a"sv, "image/gif"sv},
};

constexpr std::array kExactImages = {
    Exact{"\x89PNG\x0D\x0A\x1A\x0A"sv, "image/png"sv},
    Exact{"\xFF\xD8\xFF"sv, "image/jpeg"sv},
};

constexpr std::array kExactMediaAndArchives = {
    Exact{"\x1A\x45\xDF\xA3"sv, "video/webm"sv},
};

constexpr std::array kExactFontsAndArchives = {
    Exact{"\x00\x01\x00\x00"sv, "font/ttf"sv},
    Exact{"OTTO"sv, "font/otf"sv},
    Exact{"ttcf"sv, "font/collection"sv},
    Exact{"wOFF"sv, "font/woff"sv},
    Exact{"wOF2"sv, "font/woff2"sv},
    Exact{"\x1F\x8B\x08"sv, "application/x-gzip"sv},
    Exact{"PK\x03\x04"sv, "application/zip"sv},
    Exact{"Rar!\x1A\x07\x00"sv, "application/x-rar-compressed"sv},
    Exact{"Rar!\x1A\x07\x01\x00"sv, "application/x-rar-compressed"sv},
    Exact{"\x00\x61\x73\x6D"sv, "application/wasm"sv},
};

template <std::size_t N>
std::string_view first_exact(std::string_view data, const std::array<Exact, N>& table) {
  for (const Exact& e : table) {
    if (starts_with(data, e.prefix))
      return e.type;
  }
  return {};
}

// Four bytes of RIFF-style container: the tag, any length, then the form type.
bool riff(std::string_view data, std::string_view tag, std::string_view form) {
  return data.size() >= 8 + form.size() && starts_with(data, tag) &&
         data.substr(8, form.size()) == form;
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
  if (auto type = first_exact(data, kExactBeforeBoms); !type.empty())
    return type;
  if (masked(data, "\xFE\xFF\x00\x00"sv, "\xFF\xFF\x00\x00"sv))
    return "text/plain; charset=utf-16be";
  if (masked(data, "\xFF\xFE\x00\x00"sv, "\xFF\xFF\x00\x00"sv))
    return "text/plain; charset=utf-16le";
  if (masked(data, "\xEF\xBB\xBF\x00"sv, "\xFF\xFF\xFF\x00"sv))
    return "text/plain; charset=utf-8";
  if (auto type = first_exact(data, kExactAfterBoms); !type.empty())
    return type;
  if (riff(data, "RIFF", "WEBPVP"))
    return "image/webp";
  if (auto type = first_exact(data, kExactImages); !type.empty())
    return type;
  if (riff(data, "FORM", "AIFF"))
    return "audio/aiff";
  if (starts_with(data, "ID3"))
    return "audio/mpeg";
  if (starts_with(data, "OggS\x00"sv))
    return "application/ogg";
  if (starts_with(data, "MThd\x00\x00\x00\x06"sv))
    return "audio/midi";
  if (riff(data, "RIFF", "AVI "))
    return "video/avi";
  if (riff(data, "RIFF", "WAVE"))
    return "audio/wave";
  if (mp4(data))
    return "video/mp4";
  if (auto type = first_exact(data, kExactMediaAndArchives); !type.empty())
    return type;
  // Embedded OpenType: only the two bytes at offset 34 count.
  if (data.size() >= 36 && data.substr(34, 2) == "LP")
    return "application/vnd.ms-fontobject";
  if (auto type = first_exact(data, kExactFontsAndArchives); !type.empty())
    return type;
  if (text(data))
    return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

} // namespace ofwatchdog::http
