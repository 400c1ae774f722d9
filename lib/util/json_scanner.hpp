#pragma once
// A strict scanner of JSON text (RFC 8259) for the few small documents the watchdog reads: the
// JSON-array form of `fprocess` and the body of `/scale-updater`. It reads tokens in place and
// refuses what JSON refuses (raw control characters in strings, lone surrogates, bad escapes);
// callers build their own structure from the tokens.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ofwatchdog {

class JsonScanner {
public:
  explicit JsonScanner(std::string_view text) : text_(text) {}

  bool at_end() const { return pos_ == text_.size(); }
  // The next byte, or 0 at the end.
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  // Takes `c` when it is next.
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // Skips JSON whitespace.
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  // A string token (the opening quote next), decoded to UTF-8; nothing when it is malformed or
  // holds \u0000.
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

  // A number token as written (`-12`, `3.5e2`), or nothing when none is next.
  std::optional<std::string_view> read_number() {
    std::size_t begin = pos_;
    take('-');
    std::size_t digits = pos_;
    if (!take_digits())
      return fail_at(begin);
    if (text_[digits] == '0' && pos_ - digits > 1)
      return fail_at(begin); // a leading zero
    if (take('.') && !take_digits())
      return fail_at(begin);
    if (take('e') || take('E')) {
      if (!take('+'))
        take('-');
      if (!take_digits())
        return fail_at(begin);
    }
    return text_.substr(begin, pos_ - begin);
  }

  // Skips one value of any kind, nested at most `depth` levels; false when it is malformed.
  bool skip_value(int depth = 32) {
    skip_space();
    char c = peek();
    if (c == '"')
      return read_string().has_value();
    if (c == '-' || (c >= '0' && c <= '9'))
      return read_number().has_value();
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return true;
      }
    }
    if ((c != '[' && c != '{') || depth == 0)
      return false;
    char close = c == '[' ? ']' : '}';
    ++pos_;
    skip_space();
    if (take(close))
      return true;
    for (;;) {
      skip_space();
      if (close == '}') {
        if (!read_string())
          return false;
        skip_space();
        if (!take(':'))
          return false;
      }
      if (!skip_value(depth - 1))
        return false;
      skip_space();
      if (take(close))
        return true;
      if (!take(','))
        return false;
    }
  }

private:
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

  bool take_digits() {
    std::size_t begin = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
      ++pos_;
    return pos_ > begin;
  }
  std::optional<std::string_view> fail_at(std::size_t begin) {
    pos_ = begin;
    return std::nullopt;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

} // namespace ofwatchdog
