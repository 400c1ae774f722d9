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

} // namespace ofwatchdog::modes::static_files
