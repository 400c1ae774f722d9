// Splitting `fprocess` into the program and its arguments.
//
// The original splits on single spaces and nothing else: no quoting, no shell, two spaces make
// an empty argument. We keep that, and add one form the original lacks: a value that starts
// with `[` is a JSON array of strings, so an argument may contain spaces.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ofwatchdog/config.hpp"

namespace ofwatchdog {

namespace {

// A strict reader for exactly one JSON value: an array of strings.
class JsonArgvReader {
public:
  explicit JsonArgvReader(std::string_view text) : text_(text) {}

  std::optional<std::vector<std::string>> read() {
    std::vector<std::string> argv;
    skip_space();
    if (!take('['))
      return std::nullopt;
    skip_space();
    if (!take(']')) {
      for (;;) {
        skip_space();
        std::optional<std::string> item = read_string();
        if (!item)
          return std::nullopt;
        argv.push_back(std::move(*item));
        skip_space();
        if (take(']'))
          break;
        if (!take(','))
          return std::nullopt;
      }
    }
    skip_space();
    if (pos_ != text_.size())
      return std::nullopt;
    return argv;
  }

private:
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  std::optional<unsigned> read_hex4() {
    if (text_.size() - pos_ < 4)
      return std::nullopt;
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9')
        value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        value |= static_cast<unsigned>(c - 'A' + 10);
      else
        return std::nullopt;
    }
    return value;
  }

  // A \uXXXX escape (the "\u" already taken), joining a surrogate pair into one code point.
  // A lone surrogate is refused rather than replaced: it cannot be encoded in UTF-8.
  std::optional<char32_t> read_unicode_escape() {
    std::optional<unsigned> unit = read_hex4();
    if (!unit)
      return std::nullopt;
    if (*unit >= 0xDC00 && *unit <= 0xDFFF)
      return std::nullopt;
    if (*unit < 0xD800 || *unit > 0xDBFF)
      return static_cast<char32_t>(*unit);
    if (!take('\\') || !take('u'))
      return std::nullopt;
    std::optional<unsigned> low = read_hex4();
    if (!low || *low < 0xDC00 || *low > 0xDFFF)
      return std::nullopt;
    return static_cast<char32_t>(0x10000 + ((*unit - 0xD800) << 10) + (*low - 0xDC00));
  }

  static void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::optional<std::string> read_string() {
    if (!take('"'))
      return std::nullopt;
    std::string out;
    while (pos_ < text_.size()) {
      auto c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"')
        return out;
      // JSON forbids raw control characters inside strings.
      if (c < 0x20)
        return std::nullopt;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ == text_.size())
        return std::nullopt;
      char escape = text_[pos_++];
      switch (escape) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        std::optional<char32_t> cp = read_unicode_escape();
        // An argv string cannot hold a NUL byte, so \u0000 is refused too.
        if (!cp || *cp == 0)
          return std::nullopt;
        append_utf8(out, *cp);
        break;
      }
      default:
        return std::nullopt;
      }
    }
    return std::nullopt; // no closing quote
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

} // namespace

std::optional<std::vector<std::string>> split_fprocess(std::string_view fprocess) {
  if (fprocess.empty())
    return std::vector<std::string>{};
  if (fprocess[0] == '[') {
    std::optional<std::vector<std::string>> argv = JsonArgvReader(fprocess).read();
    // An empty array names no program at all, which is as useless as a malformed one.
    if (!argv || argv->empty())
      return std::nullopt;
    return argv;
  }
  std::vector<std::string> argv;
  for (;;) {
    std::size_t space = fprocess.find(' ');
    argv.emplace_back(fprocess.substr(0, space));
    if (space == std::string_view::npos)
      break;
    fprocess.remove_prefix(space + 1);
  }
  return argv;
}

} // namespace ofwatchdog
