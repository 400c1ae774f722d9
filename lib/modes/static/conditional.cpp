// Conditional requests; see conditional.hpp.
#include "modes/static/conditional.hpp"

#include <array>

#include "util/strings.hpp"

namespace ofwatchdog::modes::static_files {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A cursor over the date text; every reader returns false on a mismatch.
class DateReader {
public:
  explicit DateReader(std::string_view text) : text_(text) {}

  bool literal(std::string_view expected) {
    if (text_.substr(0, expected.size()) != expected)
      return false;
    text_.remove_prefix(expected.size());
    return true;
  }
  // Exactly `digits` decimal digits; with `space_padded`, a leading space may replace a zero.
  bool number(int digits, int& out, bool space_padded = false) {
    out = 0;
    for (int i = 0; i < digits; ++i) {
      if (text_.empty())
        return false;
      char c = text_.front();
      if (c == ' ' && space_padded && i == 0) {
        text_.remove_prefix(1);
        continue;
      }
      if (c < '0' || c > '9')
        return false;
      out = out * 10 + (c - '0');
      text_.remove_prefix(1);
    }
    return true;
  }
  bool month(int& out) {
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
      if (literal(kMonths[i])) {
        out = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  // A day name (any letters) up to and including `end`.
  bool skip_day_name(char end) {
    std::size_t at = text_.find(end);
    if (at == std::string_view::npos || at < 3)
      return false;
    text_.remove_prefix(at + 1);
    return true;
  }
  bool clock(std::tm& tm) {
    return number(2, tm.tm_hour) && literal(":") && number(2, tm.tm_min) && literal(":") &&
           number(2, tm.tm_sec);
  }
  bool at_end() const { return text_.empty(); }

private:
  std::string_view text_;
};

std::optional<std::time_t> to_time(std::tm& tm) {
  if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1))
    return std::nullopt;
  return t;
}

std::optional<std::time_t> parse_imf(std::string_view text) {
  DateReader r(text);
  std::tm tm{};
  if (r.skip_day_name(',') && r.literal(" ") && r.number(2, tm.tm_mday) && r.literal(" ") &&
      r.month(tm.tm_mon) && r.literal(" ") && r.number(4, tm.tm_year) && r.literal(" ") &&
      r.clock(tm) && r.literal(" GMT") && r.at_end()) {
    tm.tm_year -= 1900;
    return to_time(tm);
  }
  return std::nullopt;
}

std::optional<std::time_t> parse_rfc850(std::string_view text) {
  DateReader r(text);
  std::tm tm{};
  if (r.skip_day_name(',') && r.literal(" ") && r.number(2, tm.tm_mday) && r.literal("-") &&
      r.month(tm.tm_mon) && r.literal("-") && r.number(2, tm.tm_year) && r.literal(" ") &&
      r.clock(tm) && r.literal(" GMT") && r.at_end()) {
    // Two-digit years: 69-99 are the 1900s and 00-68 the 2000s, as Go reads them.
    if (tm.tm_year < 69)
      tm.tm_year += 100;
    return to_time(tm);
  }
  return std::nullopt;
}

std::optional<std::time_t> parse_asctime(std::string_view text) {
  DateReader r(text);
  std::tm tm{};
  if (r.skip_day_name(' ') && r.month(tm.tm_mon) && r.literal(" ") &&
      r.number(2, tm.tm_mday, true) && r.literal(" ") && r.clock(tm) && r.literal(" ") &&
      r.number(4, tm.tm_year) && r.at_end()) {
    tm.tm_year -= 1900;
    return to_time(tm);
  }
  return std::nullopt;
}

// True when a comma-separated entity-tag list contains `*`. No ETag is ever generated, so no
// other member can match.
bool lists_any(std::string_view list) {
  while (true) {
    std::size_t comma = list.find(',');
    if (trim_ows(list.substr(0, comma)) == "*")
      return true;
    if (comma == std::string_view::npos)
      return false;
    list.remove_prefix(comma + 1);
  }
}

bool is_get_or_head(std::string_view method) {
  return method == "GET" || method == "HEAD";
}

const std::string* header(const HeaderList& headers, std::string_view name) {
  const std::string* value = find_header(headers, name);
  return (value != nullptr && !value->empty()) ? value : nullptr;
}

// True when the condition "modified after `date`" is known to be false.
bool unchanged_since(const std::string* date, std::optional<std::time_t> mtime) {
  if (date == nullptr || !mtime)
    return false;
  std::optional<std::time_t> since = parse_http_date(*date);
  return since && *mtime <= *since;
}

} // namespace

std::optional<std::time_t> parse_http_date(std::string_view text) {
  if (auto t = parse_imf(text))
    return t;
  if (auto t = parse_rfc850(text))
    return t;
  return parse_asctime(text);
}

bool not_modified_since(std::string_view method, const HeaderList& headers,
                        std::optional<std::time_t> mtime) {
  return is_get_or_head(method) && unchanged_since(header(headers, "If-Modified-Since"), mtime);
}

ConditionalOutcome evaluate_conditions(std::string_view method, const HeaderList& headers,
                                       std::optional<std::time_t> mtime) {
  ConditionalOutcome outcome;
  if (const std::string* if_match = header(headers, "If-Match")) {
    if (!lists_any(*if_match)) {
      outcome.precondition = Precondition::failed;
      return outcome;
    }
  } else if (const std::string* ius = header(headers, "If-Unmodified-Since")) {
    std::optional<std::time_t> since = parse_http_date(*ius);
    // An unparsable date or a file without a time leaves the condition unknown, so it holds.
    if (since && mtime && *mtime > *since) {
      outcome.precondition = Precondition::failed;
      return outcome;
    }
  }

  if (const std::string* inm = header(headers, "If-None-Match")) {
    if (lists_any(*inm)) {
      outcome.precondition =
          is_get_or_head(method) ? Precondition::not_modified : Precondition::failed;
      return outcome;
    }
  } else if (not_modified_since(method, headers, mtime)) {
    outcome.precondition = Precondition::not_modified;
    return outcome;
  }

  // If-Range with a date matches only that exact second; an entity tag never matches.
  if (is_get_or_head(method) && header(headers, "Range") != nullptr) {
    if (const std::string* if_range = header(headers, "If-Range")) {
      std::optional<std::time_t> date = parse_http_date(trim_ows(*if_range));
      outcome.range_allowed = date && mtime && *date == *mtime;
    }
  }
  return outcome;
}

} // namespace ofwatchdog::modes::static_files
