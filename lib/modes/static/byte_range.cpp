// The Range header; see byte_range.hpp.
#include "modes/static/byte_range.hpp"

#include <limits>
#include <optional>
#include <vector>

#include "util/strings.hpp"

namespace ofwatchdog::modes::static_files {

namespace {

// A non-negative decimal that fits in 63 bits (the original parsed an int64), or nothing.
std::optional<std::uint64_t> parse_position(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

struct Span {
  std::uint64_t first;
  std::uint64_t length;
};

} // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
  RangeRequest result;
  if (header.empty())
    return result;
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) {
    result.kind = RangeRequest::Kind::invalid;
    return result;
  }
  std::vector<Span> spans;
  bool dropped = false;
  std::string_view rest = header.substr(kUnit.size());
  while (true) {
    std::size_t comma = rest.find(',');
    std::string_view item = trim_ows(rest.substr(0, comma));
    if (!item.empty()) {
      std::size_t dash = item.find('-');
      if (dash == std::string_view::npos) {
        result.kind = RangeRequest::Kind::invalid;
        return result;
      }
      std::string_view start_text = trim_ows(item.substr(0, dash));
      std::string_view end_text = trim_ows(item.substr(dash + 1));
      if (start_text.empty()) {
        // A suffix: the last n bytes.
        std::optional<std::uint64_t> n = parse_position(end_text);
        if (!n) {
          result.kind = RangeRequest::Kind::invalid;
          return result;
        }
        std::uint64_t take = *n > size ? size : *n;
        if (take == 0)
          dropped = true;
        else
          spans.push_back({size - take, take});
      } else {
        std::optional<std::uint64_t> first = parse_position(start_text);
        if (!first) {
          result.kind = RangeRequest::Kind::invalid;
          return result;
        }
        std::optional<std::uint64_t> last;
        if (!end_text.empty()) {
          last = parse_position(end_text);
          if (!last || *last < *first) {
            result.kind = RangeRequest::Kind::invalid;
            return result;
          }
        }
        if (*first >= size) {
          dropped = true;
        } else {
          std::uint64_t end = (!last || *last >= size) ? size - 1 : *last;
          spans.push_back({*first, end - *first + 1});
        }
      }
    }
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  if (spans.empty()) {
    // `bytes=` with nothing in it asks for nothing in particular.
    result.kind = dropped ? RangeRequest::Kind::unsatisfiable : RangeRequest::Kind::whole;
    return result;
  }
  // Several ranges get the whole file (see the header). One range never exceeds the file, so
  // the original's "more than the file in total" rule cannot apply to it.
  if (spans.size() > 1)
    return result;
  result.kind = RangeRequest::Kind::single;
  result.first = spans.front().first;
  result.length = spans.front().length;
  return result;
}

} // namespace ofwatchdog::modes::static_files
