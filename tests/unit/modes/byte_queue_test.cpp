// ByteQueue: order, block boundaries, and memory that goes back as it is consumed.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "modes/byte_queue.hpp"

using ofwatchdog::modes::ByteQueue;

namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  }
  return -1;
}

std::string drain(ByteQueue& q) {
  std::string out;
  while (!q.empty()) {
    std::string_view piece = q.front();
    REQUIRE_FALSE(piece.empty());
    REQUIRE(piece.size() <= ByteQueue::kBlockSize);
    out.append(piece);
    q.consume(piece.size());
  }
  return out;
}

} // namespace

TEST_CASE("bytes come out in order across block boundaries", "[byte_queue]") {
  ByteQueue q;
  CHECK(q.empty());
  CHECK(q.front().empty());
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string piece(65'537 + i * 1000, static_cast<char>('a' + i % 26));
    q.append(piece);
    expected += piece;
  }
  CHECK(q.size() == expected.size());
  std::size_t blocks = 0;
  for (std::size_t held = 0; held < expected.size(); ++blocks)
    held += ByteQueue::block_capacity(blocks);
  CHECK(q.blocks() == blocks);
  CHECK(drain(q) == expected);
  CHECK(q.blocks() == 0);
}

TEST_CASE("blocks start small and grow to the mapped size", "[byte_queue]") {
  CHECK(ByteQueue::block_capacity(0) == 16 * 1024);
  CHECK(ByteQueue::block_capacity(1) == 64 * 1024);
  CHECK(ByteQueue::block_capacity(2) == ByteQueue::kBlockSize);
  ByteQueue q;
  q.append(std::string(128, 'x'));
  CHECK(q.blocks() == 1);
  CHECK(q.front().size() == 128);
  q.append(std::string(16 * 1024, 'y')); // fills the first block, starts the second
  CHECK(q.blocks() == 2);
  CHECK(q.front().size() == 16 * 1024);
  q.consume(16 * 1024);
  CHECK(q.front().size() == 128);
  q.consume(128);
  CHECK(q.empty());
  q.append("small again"); // an emptied queue starts over with a small block
  CHECK(q.front() == "small again");
}

TEST_CASE("partial consumes and appends after draining", "[byte_queue]") {
  ByteQueue q;
  q.append("hello world");
  CHECK(q.front() == "hello world");
  q.consume(6);
  CHECK(q.front() == "world");
  CHECK(q.size() == 5);
  q.consume(100); // more than is there: only what is there
  CHECK(q.empty());
  CHECK(q.blocks() == 0);
  q.append("again");
  CHECK(q.front() == "again");
  q.clear();
  CHECK(q.empty());
  CHECK(q.blocks() == 0);
}

TEST_CASE("consumed blocks go back to the system", "[byte_queue]") {
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps the shadow pages of unmapped memory resident, so RSS says nothing there.
  return;
#endif
  long before = rss_kib();
  REQUIRE(before > 0);
  {
    ByteQueue q;
    std::string piece(64 * 1024, 'x');
    for (int i = 0; i < 32 * 16; ++i) // 32 MiB
      q.append(piece);
    CHECK(rss_kib() - before >= 30 * 1024);
    while (q.size() > ByteQueue::kBlockSize)
      q.consume(q.front().size());
    // All but the last block are unmapped while the queue is still in use.
    CHECK(rss_kib() - before < 4 * 1024);
  }
  CHECK(rss_kib() - before < 4 * 1024);
}
