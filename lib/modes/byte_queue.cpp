// Bytes in heap blocks, then in an in-memory file (or mapped blocks); see byte_queue.hpp.
#include "modes/byte_queue.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "modes/file_release.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::modes {

namespace {

// Blocks below this size come from the heap, larger ones are mapped.
constexpr std::size_t kHeapBlockLimit = 64 * 1024;
// The heap blocks a queue takes before it uses its file.
constexpr std::size_t kHeapBlocks = 2;
// Consumed file bytes are given back once this many have piled up: one fallocate per megabyte.
constexpr std::uint64_t kPunchStep = 1024 * 1024;
constexpr std::uint64_t kPageMask = 4096 - 1;

bool file_allowed = true;

// The bytes most recently read back from a file, shared by every queue of the thread, so one
// buffer stays in the cache (and its pages stay mapped) however many queues come and go.
struct Window {
  const ByteQueue* owner = nullptr;
  std::uint64_t offset = 0;
  std::size_t length = 0;
  std::unique_ptr<char[]> data;
};
thread_local Window window;

void forget_window(const ByteQueue* owner) {
  if (window.owner == owner)
    window.owner = nullptr;
}

// MAP_POPULATE faults the whole block in with one system call; otherwise each of its 256 pages
// traps on first write.
char* map_block(std::size_t capacity) {
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  // Out of memory, as a failed `new` would be without exceptions across the loop.
  OFW_INVARIANT(p != MAP_FAILED, "memory for a mapped block");
  return static_cast<char*>(p);
}

} // namespace

void ByteQueue::set_file_allowed_for_testing(bool allowed) {
  file_allowed = allowed;
}

std::size_t ByteQueue::block_capacity(std::size_t index) {
  // Mapping and populating 1 MiB for a 128-byte body made small serializing requests cost
  // several times a streaming one; two heap blocks cover small bodies, and at most 80 KiB of
  // heap is held per queue, too little to pin much of the heap.
  switch (index) {
  case 0:
    return 16 * 1024;
  case 1:
    return kHeapBlockLimit;
  default:
    return kBlockSize;
  }
}

ByteQueue::~ByteQueue() {
  clear();
}

void ByteQueue::release(Block& block) {
  if (block.capacity <= kHeapBlockLimit)
    std::free(block.data);
  else
    ::munmap(block.data, block.capacity);
}

bool ByteQueue::open_file() {
  if (fd_ >= 0)
    return true;
  if (file_failed_ || !file_allowed)
    return false;
  // A file size limit (ulimit -f) would end the process with SIGXFSZ on a big body; memory
  // has no such limit.
  rlimit limit{};
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    file_failed_ = true;
    return false;
  }
  fd_ = ::memfd_create("ofwatchdog-queue", MFD_CLOEXEC);
  if (fd_ < 0) {
    file_failed_ = true;
    return false;
  }
  return true;
}

void ByteQueue::append(std::string_view data) {
  while (!data.empty()) {
    // Once bytes are in the file, everything after them goes there too, to keep the order.
    if (file_write_ > file_read_) {
      append_to_file(data);
      return;
    }
    if (blocks_.empty() || blocks_.back().end == blocks_.back().capacity) {
      if (allocated_ >= kHeapBlocks && open_file()) {
        append_to_file(data);
        return;
      }
      std::size_t capacity = block_capacity(allocated_++);
      char* memory = capacity <= kHeapBlockLimit ? static_cast<char*>(std::malloc(capacity))
                                                 : map_block(capacity);
      OFW_INVARIANT(memory != nullptr, "memory for a heap block");
      blocks_.push_back(Block{memory, capacity, 0, 0});
    }
    Block& last = blocks_.back();
    std::size_t n = std::min(data.size(), last.capacity - last.end);
    std::memcpy(last.data + last.end, data.data(), n);
    last.end += n;
    size_ += n;
    data.remove_prefix(n);
  }
}

void ByteQueue::append_to_file(std::string_view data) {
  // A write to an in-memory file never waits for a disk; it only copies into page-cache pages.
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(file_write_));
    if (n < 0 && errno == EINTR)
      continue;
    // No memory left for the file: as a failed `new` would.
    OFW_INVARIANT(n > 0, "memory for the in-memory file's bytes");
    file_write_ += static_cast<std::uint64_t>(n);
    size_ += static_cast<std::size_t>(n);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::optional<ByteQueue::FileEnd> ByteQueue::file_end() {
  // The same choice `append` makes for its next byte.
  bool to_file = file_write_ > file_read_ ||
                 ((blocks_.empty() || blocks_.back().end == blocks_.back().capacity) &&
                  allocated_ >= kHeapBlocks && open_file());
  if (!to_file)
    return std::nullopt;
  return FileEnd{fd_, file_write_};
}

void ByteQueue::prefer_file() {
  if (blocks_.empty())
    allocated_ = std::max(allocated_, kHeapBlocks);
}

void ByteQueue::appended_to_file(std::uint64_t n) {
  OFW_INVARIANT(fd_ >= 0, "bytes appended to a queue's file that it does not have");
  file_write_ += n;
  size_ += static_cast<std::size_t>(n);
}

std::string_view ByteQueue::front() const {
  if (!blocks_.empty()) {
    const Block& first = blocks_.front();
    return {first.data + first.begin, first.end - first.begin};
  }
  if (file_write_ == file_read_)
    return {};
  if (window.owner == this && file_read_ >= window.offset &&
      file_read_ < window.offset + window.length) {
    std::size_t skip = static_cast<std::size_t>(file_read_ - window.offset);
    return {window.data.get() + skip, window.length - skip};
  }
  if (!window.data)
    window.data = std::make_unique<char[]>(kWindowSize);
  std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(kWindowSize, file_write_ - file_read_));
  std::size_t got = 0;
  window.owner = nullptr; // until it holds this queue's bytes
  while (got < want) {
    ssize_t n =
        ::pread(fd_, window.data.get() + got, want - got, static_cast<off_t>(file_read_ + got));
    if (n < 0 && errno == EINTR)
      continue;
    OFW_INVARIANT(n > 0, "the in-memory file keeps the bytes written to it");
    got += static_cast<std::size_t>(n);
  }
  window.owner = this;
  window.offset = file_read_;
  window.length = want;
  return {window.data.get(), want};
}

void ByteQueue::consume(std::size_t n) {
  if (!blocks_.empty()) {
    Block& first = blocks_.front();
    if (n > first.end - first.begin)
      n = first.end - first.begin;
    first.begin += n;
    size_ -= n;
    // A block is freed as soon as nothing in it is left to read.
    if (first.begin == first.end) {
      release(first);
      blocks_.pop_front();
    }
  } else if (file_write_ > file_read_) {
    consume_from_file(n);
  }
  if (size_ == 0) {
    allocated_ = 0;
    reset_file();
  }
}

void ByteQueue::consume_from_file(std::size_t n) {
  std::uint64_t take = std::min<std::uint64_t>(n, file_write_ - file_read_);
  file_read_ += take;
  size_ -= static_cast<std::size_t>(take);
  std::uint64_t end = file_read_ & ~kPageMask;
  if (file_read_ < file_write_ && end - punched_ >= kPunchStep) {
    // Gives the consumed pages back while the rest is still queued. A failure only delays
    // that until the queue empties.
    if (release_loop_ != nullptr) {
      punch_later(release_loop_, fd_, punched_, end);
      punched_ = end;
    } else if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                           static_cast<off_t>(punched_), static_cast<off_t>(end - punched_)) == 0) {
      punched_ = end;
    }
  }
}

void ByteQueue::reset_file() {
  if (fd_ < 0 || file_write_ == 0)
    return;
  forget_window(this);
  if (release_loop_ != nullptr) {
    // Closed on the pool, which frees the pages there; the next bytes get a new file.
    close_later(release_loop_, fd_);
    fd_ = -1;
  } else if (::ftruncate(fd_, 0) != 0) {
    // Truncating frees every page at once; the descriptor is kept for the next bytes.
    ::close(fd_);
    fd_ = -1;
  }
  file_read_ = file_write_ = punched_ = 0;
}

void ByteQueue::clear() {
  for (Block& block : blocks_)
    release(block);
  blocks_.clear();
  size_ = 0;
  allocated_ = 0;
  forget_window(this);
  if (fd_ >= 0) {
    if (release_loop_ != nullptr)
      close_later(release_loop_, fd_);
    else
      ::close(fd_);
    fd_ = -1;
  }
  file_read_ = file_write_ = punched_ = 0;
}

std::optional<ByteQueue::FileRange> ByteQueue::file_range() const {
  if (!blocks_.empty() || file_write_ == file_read_)
    return std::nullopt;
  return FileRange{fd_, file_read_, file_write_ - file_read_};
}

std::uint64_t ByteQueue::file_bytes_held() const {
  return file_write_ - punched_;
}

} // namespace ofwatchdog::modes
