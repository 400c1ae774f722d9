// The watchdog's log writer. Each line is formatted whole and written with one fwrite, so lines
// from the watchdog and relayed output never interleave mid-line.
#include "ofwatchdog/log.hpp"

#include <ctime>

#include <fmt/format.h>

#include "log/format.hpp"
#include "util/fixed_decimals.hpp"

namespace ofwatchdog {

namespace {

// Go's default log prefix: local time, "YYYY/MM/DD HH:MM:SS ". Made once a second per thread:
// a busy watchdog writes an access line per request, and localtime_r + strftime cost more than
// the rest of the line.
std::string_view timestamp() {
  struct Cached {
    std::time_t second = -1;
    char text[32] = {};
    std::size_t size = 0;
  };
  thread_local Cached cached;
  std::time_t now = std::time(nullptr);
  if (now != cached.second) {
    std::tm local{};
    localtime_r(&now, &local);
    cached.size = std::strftime(cached.text, sizeof cached.text, "%Y/%m/%d %H:%M:%S ", &local);
    cached.second = now;
  }
  return std::string_view(cached.text, cached.size);
}

std::string iso_time() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buf, n);
}

} // namespace

Logger::Logger(LogFormat format, bool prefix_logs, std::FILE* err, std::FILE* out)
    : format_(format), prefix_logs_(prefix_logs), err_(err), out_(out) {}

Logger::~Logger() {
  flush();
}

void Logger::set_deferred(bool deferred) {
  if (!deferred)
    flush();
  deferred_ = deferred;
}

void Logger::flush() {
  if (!held_err_.empty()) {
    write_now(err_, held_err_);
    held_err_.clear();
  }
  if (!held_out_.empty()) {
    write_now(out_, held_out_);
    held_out_.clear();
  }
}

void Logger::write_now(std::FILE* to, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), to);
  std::fflush(to);
}

void Logger::write(std::FILE* to, std::string_view text, bool deferrable) {
  if (deferred_ && deferrable) {
    std::string& held = to == out_ && to != err_ ? held_out_ : held_err_;
    held.append(text);
    if (held.size() >= kDeferredLimit) {
      write_now(to, held);
      held.clear();
    }
    return;
  }
  // Whatever is held came first.
  flush();
  write_now(to, text);
}

void Logger::info(std::string_view message) {
  own_line(message, false);
}

void Logger::own_line(std::string_view message, bool deferrable) {
  if (format_ == LogFormat::json) {
    write(err_,
          fmt::format("{{\"time\":\"{}\",\"level\":\"info\",\"msg\":{}}}\n", iso_time(),
                      json_quote(message)),
          deferrable);
    return;
  }
  // A message that already ends in a newline does not get a second one, as with Go's log.
  std::string line;
  std::string_view stamp = timestamp();
  line.reserve(stamp.size() + message.size() + 1);
  line.append(stamp);
  line.append(message);
  if (line.empty() || line.back() != '\n')
    line.push_back('\n');
  write(err_, line, deferrable);
}

void Logger::relay(std::string_view stream, std::string_view line) {
  std::FILE* to = stream == "stdout" ? out_ : err_;
  if (format_ == LogFormat::json) {
    write(to,
          fmt::format("{{\"time\":\"{}\",\"stream\":\"{}\",\"msg\":{}}}\n", iso_time(), stream,
                      json_quote(line)),
          true);
    return;
  }
  if (prefix_logs_)
    write(to, fmt::format("{}{}: {}\n", timestamp(), stream, line), true);
  else
    write(to, fmt::format("{}\n", line), true);
}

void Logger::access(const AccessRecord& r) {
  if (format_ == LogFormat::json) {
    std::string call_id =
        r.with_call_id
            ? fmt::format(",\"call_id\":{}", json_quote(r.call_id.empty() ? "none" : r.call_id))
            : std::string();
    write(err_,
          fmt::format("{{\"time\":\"{}\",\"level\":\"info\",\"method\":{},\"uri\":{},"
                      "\"status\":{},\"bytes\":{},\"seconds\":{:.4f}{}}}\n",
                      iso_time(), json_quote(r.method), json_quote(r.uri), json_quote(r.status),
                      r.bytes, r.seconds, call_id),
          true);
    return;
  }
  // Appended piece by piece: this runs once per request, and fmt's parsing of a format string
  // with six fields cost more than the appends.
  std::string_view stamp = timestamp();
  std::string line;
  line.reserve(stamp.size() + r.method.size() + r.uri.size() + r.status.size() +
               r.bytes_label.size() + r.call_id.size() + 48);
  line.append(stamp);
  line.append(r.method);
  line.push_back(' ');
  line.append(r.uri);
  line.append(" - ");
  line.append(r.status);
  line.append(" - ");
  line.append(r.bytes_label);
  line.append(": ");
  line.append(human_size(r.bytes));
  line.append(" (");
  util::append_fixed(line, r.seconds, 4);
  line.append("s)");
  if (r.with_call_id) {
    line.append(" [");
    line.append(r.call_id.empty() ? std::string_view("none") : std::string_view(r.call_id));
    line.push_back(']');
  }
  line.push_back('\n');
  write(err_, line, true);
}

} // namespace ofwatchdog
