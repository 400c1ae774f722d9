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
  CHECK(q.blocks() == (expected.size() + ByteQueue::kBlockSize - 1) / ByteQueue::kBlockSize);
  CHECK(drain(q) == expected);
  CHECK(q.blocks() == 0);
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
