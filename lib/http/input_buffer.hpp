#pragma once
// The bytes a connection has read from its socket and not yet handed on (to the parser, a
// tunnel, or a spliced body). Reads are appended at the end and consumed from the front; the
// consumed front is dropped when it is all of the buffer or more than half of it, so a
// keep-alive connection does not move its bytes on every read.

#include <cstddef>
#include <string>
#include <string_view>

namespace ofwatchdog::http {

class InputBuffer {
public:
  // Bytes read and not yet consumed.
  std::size_t size() const { return bytes_.size() - pos_; }
  bool empty() const { return pos_ == bytes_.size(); }
  const char* data() const { return bytes_.data() + pos_; }
  // The first `max` unconsumed bytes at most; valid until the next append.
  std::string_view front(std::size_t max) const {
    return std::string_view(data(), size() < max ? size() : max);
  }
  void consume(std::size_t len) { pos_ += len; }

  void append(const char* data, std::size_t len) {
    if (pos_ > 0 && pos_ == bytes_.size()) {
      bytes_.clear();
      pos_ = 0;
    } else if (pos_ > bytes_.size() / 2) {
      bytes_.erase(0, pos_);
      pos_ = 0;
    }
    bytes_.append(data, len);
  }
  void clear() {
    bytes_.clear();
    pos_ = 0;
  }

private:
  std::string bytes_;
  std::size_t pos_ = 0;
};

} // namespace ofwatchdog::http
