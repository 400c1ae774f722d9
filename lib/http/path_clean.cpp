#include "http/path_clean.hpp"

#include <vector>

namespace ofwatchdog::http {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// True when `target` starts with `scheme://`, the sign of absolute-form.
std::size_t absolute_form_prefix(std::string_view target) {
  if (target.empty() || !is_alpha(target[0])) {
    return 0;
  }
  std::size_t i = 1;
  while (i < target.size() && (is_alpha(target[i]) || (target[i] >= '0' && target[i] <= '9') ||
                               target[i] == '+' || target[i] == '-' || target[i] == '.')) {
    ++i;
  }
  if (target.substr(i, 3) != "://") {
    return 0;
  }
  return i + 3;
}
} // namespace

TargetParts split_target(std::string_view target) {
  TargetParts parts;
  std::size_t start = absolute_form_prefix(target);
  if (start > 0) {
    parts.scheme = target.substr(0, start - 3);
    // The authority ends at the next '/' (or the query at '?'), where the path starts.
    std::size_t end = target.find_first_of("/?", start);
    parts.authority = target.substr(start, end == std::string_view::npos ? end : end - start);
    target = end == std::string_view::npos ? std::string_view{} : target.substr(end);
  }
  std::size_t question = target.find('?');
  if (question == std::string_view::npos) {
    parts.path = target;
  } else {
    parts.path = target.substr(0, question);
    parts.query = target.substr(question + 1);
    parts.has_query = true;
  }
  return parts;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return std::nullopt;
    }
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::string clean_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) {
      slash = path.size();
    }
    std::string_view segment = path.substr(pos, slash - pos);
    if (segment == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    pos = slash + 1;
  }
  std::string out;
  for (std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty()) {
    return "/";
  }
  // Only a literal trailing slash survives: `/a/.` and `/a/..` name directories but Go's
  // path.Clean drops the slash for them, and the redirect follows it.
  if (!path.empty() && path.back() == '/') {
    out.push_back('/');
  }
  return out;
}

std::string escape_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    bool keep = is_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                c == '~' || c == '$' || c == '&' || c == '+' || c == ',' || c == '/' || c == ':' ||
                c == ';' || c == '=' || c == '@';
    if (keep) {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

std::string escape_query(std::string_view query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(query.size());
  for (char c : query) {
    auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7F) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '\'':
      out += "&#39;";
      break;
    case '"':
      out += "&#34;";
      break;
    default:
      out.push_back(c);
    }
  }
  return out;
}

} // namespace ofwatchdog::http
