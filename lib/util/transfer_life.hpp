#pragma once
// What the splice transfers (http/body_splice, process/pipe_file_splice) have in common: the
// stages of their life, with the moves allowed between them, and the buffer they copy through
// when splice(2) is refused.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/invariant.hpp"

namespace ofwatchdog::util {

// ready (constructed) -> running (started) -> ended (its Done was called); closing (close was
// asked) from any of them. Any other move is a defect and stops the process, naming the owner.
class TransferLife {
public:
  enum class Stage : std::uint8_t { ready, running, ended, closing };

  explicit TransferLife(std::string_view owner) : owner_(owner) {}

  Stage stage() const { return stage_; }
  friend bool operator==(const TransferLife& life, Stage stage) { return life.stage_ == stage; }

  void move_to(Stage next) {
    bool legal = false;
    switch (stage_) {
    case Stage::ready:
      legal = next == Stage::running || next == Stage::closing;
      break;
    case Stage::running:
      legal = next == Stage::ended || next == Stage::closing;
      break;
    case Stage::ended:
      legal = next == Stage::closing;
      break;
    case Stage::closing:
      break;
    }
    OFW_INVARIANT(legal, owner_);
    stage_ = next;
  }

private:
  std::string_view owner_; // a literal naming the transfer, for the invariant's message
  Stage stage_ = Stage::ready;
};

// The buffer of the copying fallback: one per thread, shared by every transfer on it, each of
// which uses it only within one call.
inline constexpr std::size_t kCopyScratchBytes = 64 * 1024;

inline char* copy_scratch() {
  thread_local char buffer[kCopyScratchBytes];
  return buffer;
}

} // namespace ofwatchdog::util
