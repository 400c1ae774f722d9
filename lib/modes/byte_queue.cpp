// Bytes in mapped blocks; see byte_queue.hpp.
#include "modes/byte_queue.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace ofwatchdog::modes {

namespace {

// MAP_POPULATE faults the whole block in with one system call; otherwise each of its 256 pages
// traps on first write, which on a virtual machine cost more than copying the bytes.
char* map_block() {
  void* p = ::mmap(nullptr, ByteQueue::kBlockSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED)
    std::abort(); // out of memory, like a failed `new` without exceptions across the loop
  return static_cast<char*>(p);
}

void unmap_block(char* data) {
  ::munmap(data, ByteQueue::kBlockSize);
}

} // namespace

void ByteQueue::append(std::string_view data) {
  while (!data.empty()) {
    if (blocks_.empty() || blocks_.back().end == kBlockSize)
      blocks_.push_back(Block{map_block(), 0, 0});
    Block& last = blocks_.back();
    std::size_t n = std::min(data.size(), kBlockSize - last.end);
    std::memcpy(last.data + last.end, data.data(), n);
    last.end += n;
    size_ += n;
    data.remove_prefix(n);
  }
}

std::string_view ByteQueue::front() const {
  if (blocks_.empty())
    return {};
  const Block& first = blocks_.front();
  return {first.data + first.begin, first.end - first.begin};
}

void ByteQueue::consume(std::size_t n) {
  if (blocks_.empty())
    return;
  Block& first = blocks_.front();
  if (n > first.end - first.begin)
    n = first.end - first.begin;
  first.begin += n;
  size_ -= n;
  // A block is freed as soon as nothing in it is left to read; a later append maps a new one.
  if (first.begin == first.end) {
    unmap_block(first.data);
    blocks_.pop_front();
  }
}

void ByteQueue::clear() {
  for (Block& block : blocks_)
    unmap_block(block.data);
  blocks_.clear();
  size_ = 0;
}

} // namespace ofwatchdog::modes
