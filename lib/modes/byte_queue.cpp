// Bytes in heap and mapped blocks; see byte_queue.hpp.
#include "modes/byte_queue.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace ofwatchdog::modes {

namespace {

// Blocks below this size come from the heap, larger ones are mapped.
constexpr std::size_t kHeapBlockLimit = 64 * 1024;

// MAP_POPULATE faults the whole block in with one system call; otherwise each of its 256 pages
// traps on first write, which on a virtual machine cost more than copying the bytes.
char* map_block(std::size_t capacity) {
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED)
    std::abort(); // out of memory, like a failed `new` without exceptions across the loop
  return static_cast<char*>(p);
}

} // namespace

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

void ByteQueue::release(Block& block) {
  if (block.capacity <= kHeapBlockLimit)
    std::free(block.data);
  else
    ::munmap(block.data, block.capacity);
}

void ByteQueue::append(std::string_view data) {
  while (!data.empty()) {
    if (blocks_.empty() || blocks_.back().end == blocks_.back().capacity) {
      std::size_t capacity = block_capacity(allocated_++);
      char* memory = capacity <= kHeapBlockLimit ? static_cast<char*>(std::malloc(capacity))
                                                 : map_block(capacity);
      if (memory == nullptr)
        std::abort();
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
    release(first);
    blocks_.pop_front();
    if (blocks_.empty())
      allocated_ = 0;
  }
}

void ByteQueue::clear() {
  for (Block& block : blocks_)
    release(block);
  blocks_.clear();
  size_ = 0;
  allocated_ = 0;
}

} // namespace ofwatchdog::modes
