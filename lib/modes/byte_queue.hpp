#pragma once
// A first-in first-out queue of bytes for the serializing mode, which holds a whole request body
// and a whole function output in memory.
//
// The bytes live in blocks that are freed as soon as they have been consumed. The first two
// blocks are small heap blocks (16 KiB, then 64 KiB), so the common small request costs no
// system call; every later block is 1 MiB mapped straight from the kernel (mmap). Through malloc, the same 100 MiB in 64 KiB strings stayed in the
// process after the request: glibc returns heap memory only from the top of the heap, and one
// small long-lived allocation above the strings pins all of it. Unmapped blocks always go back,
// and consuming from the front frees memory while the rest is still queued, so moving a body
// from one queue into a pipe or a socket never holds it twice.
//
//   ByteQueue q;
//   q.append(data);                      // copies
//   while (!q.empty()) { auto s = q.front(); use(s); q.consume(s.size()); }

#include <cstddef>
#include <deque>
#include <string_view>

namespace ofwatchdog::modes {

class ByteQueue {
public:
  // The largest block; every block from the third on has this size.
  static constexpr std::size_t kBlockSize = 1024 * 1024;
  // The size of the block allocated `index`-th since the queue was last empty.
  static std::size_t block_capacity(std::size_t index);

  ByteQueue() = default;
  ~ByteQueue() { clear(); }
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;

  // Copies `data` to the back. Aborts if the kernel has no memory to map (as `new` would).
  void append(std::string_view data);
  // The first contiguous run of queued bytes (at most one block); empty when the queue is.
  std::string_view front() const;
  // Drops `n` bytes from the front (at most front().size()).
  void consume(std::size_t n);
  // Drops everything and unmaps every block.
  void clear();

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::size_t blocks() const { return blocks_.size(); }

private:
  struct Block {
    char* data;
    std::size_t capacity;
    std::size_t begin; // first unread byte
    std::size_t end;   // one past the last written byte
  };
  static void release(Block& block);

  std::deque<Block> blocks_;
  std::size_t size_ = 0;
  std::size_t allocated_ = 0; // blocks allocated since the queue was last empty
};

} // namespace ofwatchdog::modes
