#pragma once
// A bounded byte stream between a worker thread and the loop, one direction.
//
// Each end has a blocking call for the worker and a non-blocking one for the loop:
//
//   writer: `write` (worker, blocks while full)   or `push` (loop, never blocks)
//   reader: `read`  (worker, blocks while empty)  or `pull` (loop, never blocks)
//
// Backpressure has two watermarks. A blocked `write` waits until the buffer is down to `low`.
// `push` always takes its bytes (the loop cannot wait) and returns true once the buffer holds
// `high` or more: the loop should stop its producer (`pause_body`). The loop never waits on the
// channel; instead `wake_loop` is called, from whichever thread made the change, when the loop
// has something to do: bytes or the end after a `pull` found nothing, or the buffer drained to
// `low` after a `push` said "full". Between those moments no wakeup is sent at all.
//
// `cancel` fails the stream both ways: blocked calls return at once, later ones return
// `cancelled`, and buffered bytes are dropped.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace ofwatchdog::work {

struct Watermarks {
  std::size_t high = 256 * 1024;
  std::size_t low = 64 * 1024;
};

class ByteChannel {
public:
  enum class Status {
    ok,        // bytes moved
    empty,     // pull only: nothing buffered yet; `wake_loop` follows when there is
    end,       // the writer closed the stream and everything was read
    cancelled, // the stream failed, or the reader is gone
  };
  struct ReadResult {
    Status status = Status::ok;
    std::size_t size = 0;
  };

  // `wake_loop` may be called on any thread, with no lock of the channel held.
  ByteChannel(Watermarks marks, std::function<void()> wake_loop);
  ByteChannel(const ByteChannel&) = delete;
  ByteChannel& operator=(const ByteChannel&) = delete;

  // Worker: copies all of `data`, blocking whenever the buffer is full; ok, or cancelled.
  Status write(std::string_view data);
  // Loop: takes `data`; true when the producer should pause (the buffer is at `high` or more).
  // Bytes pushed after the reader is gone are dropped.
  bool push(std::string_view data);
  // Either side: the end of the stream, once the buffered bytes are read.
  void close_write();

  // Worker: blocks until bytes (at most `capacity`), the end, or cancellation.
  ReadResult read(char* buffer, std::size_t capacity);
  // Worker: whether `read` would return at once (bytes, the end, or the stream failed).
  bool readable() const;
  // Worker: blocks until `deadline`, or (with `for_data`) until `readable`, or until the stream
  // fails. ok: readable (only with `for_data`), empty: the deadline passed,
  // cancelled: the stream failed. Nothing is read. The loop's `cancel` ends the wait at once.
  Status wait(bool for_data, std::chrono::steady_clock::time_point deadline);
  // Loop: moves the oldest buffered piece into `out` (replacing its contents).
  Status pull(std::string& out);
  // Reader: nothing more will be read. Buffered bytes are dropped, later pushes are dropped and
  // a writer gets `cancelled`.
  void close_read();

  // Either side: fails the stream (see above).
  void cancel();

  // Whether the buffer is down to `low`: the loop resumes a producer it paused.
  bool drained() const;
  std::size_t buffered() const;
  // The most bytes ever buffered at once, for tests of the bound.
  std::size_t peak() const;
  // Whether a worker is blocked in `read` or `write` now, for tests that must cancel one.
  bool worker_blocked() const;

private:
  // Appends under the lock; returns true when a loop reader waits for data.
  bool append_locked(std::string_view data);
  // After the buffer shrank, under the lock: wakes a blocked writer, or says whether the loop
  // (which was told "full") must hear about it.
  bool drained_locked();
  // Under the lock, once the stream is cancelled or its reader gone: drops the buffer, wakes
  // every blocked worker, and says whether the loop waits to hear of it.
  bool drop_locked();
  void wake_loop() const;

  const Watermarks marks_;
  const std::function<void()> wake_loop_;

  mutable std::mutex mutex_;
  std::condition_variable readable_; // a blocked read waits here
  std::condition_variable writable_; // a blocked write waits here
  std::deque<std::string> pieces_;
  std::size_t front_offset_ = 0; // bytes of pieces_.front() already read
  std::size_t buffered_ = 0;
  std::size_t peak_ = 0;
  int blocked_ = 0;
  bool ended_ = false;
  bool cancelled_ = false;
  bool reader_gone_ = false;
  // A pull found nothing. It starts true: the loop has not looked yet, so the first bytes or the
  // end must wake it.
  bool loop_reader_waiting_ = true;
  bool loop_writer_waiting_ = false; // a push said "full"
};

} // namespace ofwatchdog::work
