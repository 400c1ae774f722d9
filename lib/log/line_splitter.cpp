// Line splitting for relayed function output; see line_splitter.hpp for the rules.
#include "log/line_splitter.hpp"

#include <utility>

namespace ofwatchdog {

LineSplitter::LineSplitter(std::int64_t max_line, LineCallback on_line,
                           OverflowCallback on_overflow)
    : max_line_(max_line), on_line_(std::move(on_line)), on_overflow_(std::move(on_overflow)) {}

void LineSplitter::feed(std::string_view data) {
  if (max_line_ == 0) {
    // Nothing fits in a zero-byte line: drain and discard, but say so once.
    if (!data.empty())
      overflowed();
    return;
  }
  while (!data.empty()) {
    std::size_t newline = data.find('\n');
    if (newline == std::string_view::npos) {
      pending_.append(data);
      split_pending();
      return;
    }
    std::string_view tail = data.substr(0, newline);
    data.remove_prefix(newline + 1);
    if (pending_.empty()) {
      // The common case: a whole line inside one read, emitted without copying.
      emit_line_end(tail);
    } else {
      pending_.append(tail);
      std::string line = std::move(pending_);
      pending_.clear();
      emit_line_end(line);
    }
  }
}

void LineSplitter::finish() {
  if (pending_.empty())
    return;
  std::string line = std::move(pending_);
  pending_.clear();
  emit_line_end(line);
}

void LineSplitter::emit_line_end(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  emit(line);
}

// Emits `line`, cut into pieces when it is longer than the limit.
void LineSplitter::emit(std::string_view line) {
  if (max_line_ < 0 || line.size() <= static_cast<std::uint64_t>(max_line_)) {
    on_line_(line);
    return;
  }
  overflowed();
  auto piece = static_cast<std::size_t>(max_line_);
  while (line.size() > piece) {
    on_line_(line.substr(0, piece));
    line.remove_prefix(piece);
  }
  on_line_(line);
}

// Emits full pieces of an unfinished line so that at most `max_line` + 1 bytes stay buffered.
// One byte more than a piece may be held back: a final `\r` that could turn out to be the
// first half of a CRLF, in which case the line fits after all.
void LineSplitter::split_pending() {
  if (max_line_ < 0)
    return;
  auto piece = static_cast<std::size_t>(max_line_);
  std::size_t start = 0;
  while (pending_.size() - start > piece) {
    if (pending_.size() - start == piece + 1 && pending_.back() == '\r')
      break;
    overflowed();
    on_line_(std::string_view(pending_).substr(start, piece));
    start += piece;
  }
  pending_.erase(0, start);
}

void LineSplitter::overflowed() {
  if (overflow_reported_)
    return;
  overflow_reported_ = true;
  if (on_overflow_)
    on_overflow_();
}

} // namespace ofwatchdog
