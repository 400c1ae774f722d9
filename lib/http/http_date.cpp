#include "http/http_date.hpp"

#include <fmt/format.h>

namespace ofwatchdog::http {

namespace {
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
} // namespace

std::string format_http_date(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  // Names are written from fixed tables, not strftime, so the locale cannot change them.
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string_view HttpDateCache::now() {
  std::time_t second = std::time(nullptr);
  if (second != cached_second_) {
    cached_second_ = second;
    cached_ = format_http_date(second);
  }
  return cached_;
}

} // namespace ofwatchdog::http
