#pragma once
// Small ASCII string helpers shared across the library (HTTP names are ASCII and
// case-insensitive).

#include <string>
#include <string_view>

namespace ofwatchdog {

inline char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Names mostly come in the case they are compared with: equal bytes skip the folding.
    if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  }
  return true;
}

// True when `part` occurs in `text`, ignoring ASCII case.
inline bool icontains(std::string_view text, std::string_view part) {
  if (part.size() > text.size())
    return false;
  if (part.empty())
    return true;
  char first = ascii_lower(part.front());
  for (std::size_t at = 0; at + part.size() <= text.size(); ++at) {
    if (ascii_lower(text[at]) == first && iequals(text.substr(at, part.size()), part))
      return true;
  }
  return false;
}

inline bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// Without the optional white space (SP and HTAB) HTTP allows around field values and list
// members.
inline std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

inline std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = ascii_lower(c);
  return out;
}

} // namespace ofwatchdog
