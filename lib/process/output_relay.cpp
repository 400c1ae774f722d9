// Relaying function output to the log; see output_relay.hpp.
#include "process/output_relay.hpp"

#include <uv.h>

#include <fmt/format.h>

namespace ofwatchdog::process {

OutputRelay::OutputRelay(Logger& log, std::string stream, std::int64_t max_line,
                         std::function<void()> on_end)
    : log_(log), stream_(std::move(stream)), max_line_(max_line), on_end_(std::move(on_end)),
      splitter_(
          max_line, [this](std::string_view line) { log_.relay(stream_, line); },
          [this] { warn_overflow(); }) {}

void OutputRelay::attach(ChildProcess& child, Stdio which) {
  child.read_output(which, this);
}

void OutputRelay::on_output(std::string_view data) {
  splitter_.feed(data);
}

void OutputRelay::on_output_end(int status) {
  if (ended_)
    return;
  ended_ = true;
  // The 0.11.6 wording (docs/decisions.md, read-error-wording); EOF is the normal end and says
  // nothing.
  if (status != 0)
    log_.info(fmt::format("Error reading {}: {}", stream_, uv_strerror(status)));
  splitter_.finish();
  if (on_end_) {
    std::function<void()> on_end = std::move(on_end_);
    on_end_ = nullptr;
    on_end();
  }
}

void OutputRelay::abandon() {
  if (ended_)
    return;
  ended_ = true;
  on_end_ = nullptr;
  splitter_.finish();
}

void OutputRelay::warn_overflow() {
  if (max_line_ == 0) {
    log_.info(fmt::format("Warning: log_buffer_size is 0, so the function's {} is read and "
                          "discarded",
                          stream_));
    return;
  }
  log_.info(fmt::format("Warning: the function's {} has a line longer than log_buffer_size "
                        "({} bytes); long lines are logged in pieces of that size",
                        stream_, max_line_));
}

} // namespace ofwatchdog::process
