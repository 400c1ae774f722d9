#include "work/byte_channel.hpp"

#include <algorithm>
#include <cstring>

namespace ofwatchdog::work {

namespace {

// Writes are appended to the last piece while it stays within this size, instead of making a
// piece each: the bytes are copied once either way, and the loop then sends few large pieces.
// A worker writing a line at a time does not cost one send_body per line, and one writing
// 64 KiB at a time does not cost one chunk per 64 KiB: with TCP_NODELAY every send ends in a
// push, and each push can leave a small segment behind a full one, which on loopback makes the
// receiver's buffer accounting overflow and drop (the sender then backs off for seconds).
constexpr std::size_t kLargestPiece = 256 * 1024;

} // namespace

ByteChannel::ByteChannel(Watermarks marks, std::function<void()> wake_loop)
    : marks_(marks), wake_loop_(std::move(wake_loop)) {}

ByteChannel::Status ByteChannel::write(std::string_view data) {
  while (!data.empty()) {
    bool wake = false;
    {
      std::unique_lock lock(mutex_);
      if (buffered_ >= marks_.high) {
        ++blocked_;
        writable_.wait(lock, [&] { return cancelled_ || reader_gone_ || buffered_ <= marks_.low; });
        --blocked_;
      }
      if (cancelled_ || reader_gone_)
        return Status::cancelled;
      // Never more than `high` buffered: a large write goes in as the reader makes room.
      std::size_t n = std::min(data.size(), marks_.high - buffered_);
      wake = append_locked(data.substr(0, n));
      data.remove_prefix(n);
    }
    if (wake)
      wake_loop();
  }
  return Status::ok;
}

bool ByteChannel::push(std::string_view data) {
  std::lock_guard lock(mutex_);
  if (cancelled_ || reader_gone_)
    return false;
  append_locked(data);
  readable_.notify_one();
  if (buffered_ >= marks_.high) {
    loop_writer_waiting_ = true;
    return true;
  }
  return false;
}

bool ByteChannel::append_locked(std::string_view data) {
  if (!pieces_.empty() && pieces_.back().size() + data.size() <= kLargestPiece)
    pieces_.back().append(data);
  else
    pieces_.emplace_back(data);
  buffered_ += data.size();
  peak_ = std::max(peak_, buffered_);
  bool wake = loop_reader_waiting_;
  loop_reader_waiting_ = false;
  return wake;
}

void ByteChannel::close_write() {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (ended_)
      return;
    ended_ = true;
    wake = loop_reader_waiting_;
    loop_reader_waiting_ = false;
    readable_.notify_all();
  }
  if (wake)
    wake_loop();
}

bool ByteChannel::readable() const {
  std::lock_guard lock(mutex_);
  return buffered_ > 0 || ended_ || cancelled_ || reader_gone_;
}

ByteChannel::Status ByteChannel::wait(bool for_data,
                                      std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  auto done = [&] { return cancelled_ || reader_gone_ || (for_data && (buffered_ > 0 || ended_)); };
  ++blocked_;
  bool woke = readable_.wait_until(lock, deadline, done);
  --blocked_;
  if (cancelled_ || reader_gone_)
    return Status::cancelled;
  return woke ? Status::ok : Status::empty;
}

ByteChannel::ReadResult ByteChannel::read(char* buffer, std::size_t capacity) {
  bool wake = false;
  std::size_t n = 0;
  {
    std::unique_lock lock(mutex_);
    if (buffered_ == 0 && !ended_ && !cancelled_ && !reader_gone_) {
      ++blocked_;
      readable_.wait(lock, [&] { return buffered_ > 0 || ended_ || cancelled_ || reader_gone_; });
      --blocked_;
    }
    if (cancelled_ || reader_gone_)
      return {Status::cancelled, 0};
    if (buffered_ == 0)
      return {Status::end, 0};
    while (n < capacity && !pieces_.empty()) {
      std::string& front = pieces_.front();
      std::size_t take = std::min(capacity - n, front.size() - front_offset_);
      std::memcpy(buffer + n, front.data() + front_offset_, take);
      n += take;
      front_offset_ += take;
      if (front_offset_ == front.size()) {
        pieces_.pop_front();
        front_offset_ = 0;
      }
    }
    buffered_ -= n;
    wake = drained_locked();
  }
  if (wake)
    wake_loop();
  return {Status::ok, n};
}

ByteChannel::Status ByteChannel::pull(std::string& out) {
  std::lock_guard lock(mutex_);
  if (cancelled_ || reader_gone_)
    return Status::cancelled;
  if (pieces_.empty()) {
    if (ended_)
      return Status::end;
    loop_reader_waiting_ = true;
    return Status::empty;
  }
  out = std::move(pieces_.front());
  pieces_.pop_front();
  if (front_offset_ != 0) {
    out.erase(0, front_offset_);
    front_offset_ = 0;
  }
  buffered_ -= out.size();
  // The loop pulls, so the loop needs no wakeup for its own progress.
  drained_locked();
  return Status::ok;
}

bool ByteChannel::drained_locked() {
  if (buffered_ > marks_.low)
    return false;
  writable_.notify_one();
  bool wake = loop_writer_waiting_;
  loop_writer_waiting_ = false;
  return wake;
}

void ByteChannel::close_read() {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    reader_gone_ = true;
    wake = drop_locked();
  }
  if (wake)
    wake_loop();
}

void ByteChannel::cancel() {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_)
      return;
    cancelled_ = true;
    wake = drop_locked();
  }
  if (wake)
    wake_loop();
}

bool ByteChannel::drop_locked() {
  pieces_.clear();
  front_offset_ = 0;
  buffered_ = 0;
  readable_.notify_all();
  writable_.notify_all();
  bool wake = loop_reader_waiting_ || loop_writer_waiting_;
  loop_reader_waiting_ = loop_writer_waiting_ = false;
  return wake;
}

bool ByteChannel::drained() const {
  std::lock_guard lock(mutex_);
  return buffered_ <= marks_.low;
}

std::size_t ByteChannel::buffered() const {
  std::lock_guard lock(mutex_);
  return buffered_;
}

std::size_t ByteChannel::peak() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

bool ByteChannel::worker_blocked() const {
  std::lock_guard lock(mutex_);
  return blocked_ > 0;
}

void ByteChannel::wake_loop() const {
  if (wake_loop_)
    wake_loop_();
}

} // namespace ofwatchdog::work
