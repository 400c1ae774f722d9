#pragma once
// The watchdog's log: its own lines on stderr, relayed function output, and access lines.
//
// In text format every own line starts with a local-time `YYYY/MM/DD HH:MM:SS ` stamp, as the
// original's; in JSON format every line is one object. Relayed function output follows
// `prefix_logs`. Writes are whole-line, so lines never interleave. They are synchronous unless
// deferred (see `set_deferred`).

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ofwatchdog/export.hpp"
#include "ofwatchdog/log_format.hpp"

namespace ofwatchdog {

struct OFWATCHDOG_API AccessRecord {
  std::string_view method;
  std::string_view uri;
  std::string_view status; // "200", or an upstream status line such as "200 OK"
  std::int64_t bytes = 0;  // printed as a human size; -1 when unknown
  double seconds = 0;
  std::string_view bytes_label = "ContentLength"; // the word before the size
  std::string_view call_id;                       // appended as " [<id>]" when `with_call_id`
  bool with_call_id = false;
};

class OFWATCHDOG_API Logger {
public:
  Logger(LogFormat format, bool prefix_logs, std::FILE* err = stderr, std::FILE* out = stdout);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Deferred: relayed and access lines are held in memory until `flush`, or until
  // kDeferredLimit bytes are held, so that a busy server writes its log in batches instead of
  // once per line. The watchdog turns this on and flushes a few milliseconds after the first
  // line is held. The watchdog's own lines (`info`) are still written at once, after whatever
  // was held, so start-up and shutdown lines are never late. Off by default.
  void set_deferred(bool deferred);
  // Writes out whatever deferred lines are held.
  void flush();
  // Whether deferred lines are waiting for `flush`.
  bool holding() const { return !held_err_.empty() || !held_out_.empty(); }
  static constexpr std::size_t kDeferredLimit = 64 * 1024;

  // One of the watchdog's own lines, e.g. "Listening on port: 8080".
  void info(std::string_view message);
  // A line of a function's output; `stream` is "stderr" or "stdout" and picks the destination.
  void relay(std::string_view stream, std::string_view line);
  // The per-request summary line.
  void access(const AccessRecord& record);

  LogFormat format() const { return format_; }

private:
  // Writes `text` now, or holds it when deferred and `deferrable`.
  void write(std::FILE* to, std::string_view text, bool deferrable);
  void write_now(std::FILE* to, std::string_view text);
  void own_line(std::string_view message, bool deferrable);

  LogFormat format_;
  bool prefix_logs_;
  std::FILE* err_;
  std::FILE* out_;
  bool deferred_ = false;
  std::string held_err_; // deferred lines for err_
  std::string held_out_; // deferred lines for out_
};

} // namespace ofwatchdog
