// ByteQueue: order, block boundaries, the in-memory file, and memory that goes back as it is
// consumed.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "../process/test_loop.hpp"
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

// Memory the kernel holds for a file, in KiB.
long file_kib(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return static_cast<long>(st.st_blocks) / 2;
}

// A pattern that tells every offset apart, so a byte out of place shows.
std::string pattern(std::size_t size, std::size_t seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 131 + seed * 7 + i / 251) & 0xff);
  return s;
}

// Queues made inside a scope use mapped blocks instead of a file.
struct NoFile {
  NoFile() { ByteQueue::set_file_allowed_for_testing(false); }
  ~NoFile() { ByteQueue::set_file_allowed_for_testing(true); }
};

std::string drain(ByteQueue& q) {
  std::string out;
  while (!q.empty()) {
    std::string_view piece = q.front();
    REQUIRE_FALSE(piece.empty());
    REQUIRE(piece.size() <= std::max(ByteQueue::kBlockSize, ByteQueue::kWindowSize));
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
  // Two heap blocks, then the file.
  CHECK(q.blocks() == 2);
  std::size_t in_blocks = ByteQueue::block_capacity(0) + ByteQueue::block_capacity(1);
  CHECK(q.file_bytes_held() == expected.size() - in_blocks);
  CHECK(drain(q) == expected);
  CHECK(q.blocks() == 0);
  CHECK(q.file_bytes_held() == 0);
}

TEST_CASE("without a file, mapped blocks keep the bytes in order", "[byte_queue]") {
  NoFile no_file;
  ByteQueue q;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string piece = pattern(65'537 + i * 1000, i);
    q.append(piece);
    expected += piece;
  }
  std::size_t blocks = 0;
  for (std::size_t held = 0; held < expected.size(); ++blocks)
    held += ByteQueue::block_capacity(blocks);
  CHECK(q.blocks() == blocks);
  CHECK_FALSE(q.file_range());
  CHECK(drain(q) == expected);
  CHECK(q.blocks() == 0);
}

TEST_CASE("bytes in the file come back in order, in any piece sizes", "[byte_queue]") {
  ByteQueue q;
  std::string expected;
  std::string out;
  // Appends and consumes interleaved, with consumes that end inside the read window and ones
  // that cross it, so the window is reused, moved and refilled.
  for (std::size_t i = 0; i < 40; ++i) {
    std::string piece = pattern(40'000 + i * 3'001, i);
    q.append(piece);
    expected += piece;
    std::size_t want = 10'000 + i * 7'777;
    while (want > 0 && !q.empty()) {
      std::string_view front = q.front();
      std::size_t n = std::min(want, front.size());
      out.append(front.substr(0, n));
      q.consume(n);
      want -= n;
    }
  }
  out += drain(q);
  CHECK(out == expected);
}

TEST_CASE("two queues reading their files in turn do not see each other's bytes", "[byte_queue]") {
  ByteQueue a;
  ByteQueue b;
  std::string big_a = pattern(600'000, 1);
  std::string big_b = pattern(600'000, 2);
  a.append(big_a);
  b.append(big_b);
  std::string out_a;
  std::string out_b;
  while (!a.empty() || !b.empty()) {
    for (auto [q, out] : {std::pair{&a, &out_a}, std::pair{&b, &out_b}}) {
      if (q->empty())
        continue;
      std::string_view piece = q->front();
      std::size_t n = std::min<std::size_t>(piece.size(), 50'000);
      out->append(piece.substr(0, n));
      q->consume(n);
    }
  }
  CHECK(out_a == big_a);
  CHECK(out_b == big_b);
}

TEST_CASE("the file range can be read and dropped whole, and the queue starts over",
          "[byte_queue]") {
  ByteQueue q;
  std::string data = pattern(3 * 1024 * 1024 + 5, 3);
  q.append(data);
  CHECK_FALSE(q.file_range()); // the heap blocks come first
  std::size_t in_blocks = ByteQueue::block_capacity(0) + ByteQueue::block_capacity(1);
  std::string out;
  while (out.size() < in_blocks) {
    out.append(q.front());
    q.consume(q.front().size());
  }
  auto range = q.file_range();
  REQUIRE(range);
  CHECK(range->length == data.size() - in_blocks);
  std::string rest(range->length, '\0');
  REQUIRE(::pread(range->fd, rest.data(), rest.size(), static_cast<off_t>(range->offset)) ==
          static_cast<ssize_t>(rest.size()));
  CHECK(out + rest == data);
  q.consume(range->length);
  CHECK(q.empty());
  CHECK_FALSE(q.file_range());
  // Empty again: small bytes go to a heap block, big ones to the file from its start.
  q.append("small");
  CHECK(q.blocks() == 1);
  CHECK(q.front() == "small");
  q.consume(5);
  std::string again = pattern(200'000, 4);
  q.append(again);
  CHECK(drain(q) == again);
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

TEST_CASE("consumed file bytes go back to the system while the rest is queued", "[byte_queue]") {
  ByteQueue q;
  std::string piece(64 * 1024, 'x');
  for (int i = 0; i < 32 * 16; ++i) // 32 MiB
    q.append(piece);
  while (!q.file_range())
    q.consume(q.front().size());
  int fd = q.file_range()->fd;
  CHECK(file_kib(fd) >= 30 * 1024);
  while (q.size() > ByteQueue::kBlockSize)
    q.consume(q.front().size());
  // All but about the last megabyte is punched out of the file.
  CHECK(file_kib(fd) < 3 * 1024);
  CHECK(q.file_bytes_held() < 3 * 1024 * 1024);
  q.consume(q.size());
  CHECK(file_kib(fd) == 0);
}

TEST_CASE("consumed mapped blocks go back to the system", "[byte_queue]") {
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps the shadow pages of unmapped memory resident, so RSS says nothing there.
  return;
#endif
  NoFile no_file;
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

// --- bytes the kernel moves, and one file for two queues --------------------------------------

namespace {

// Writes `data` into `fd` at `offset`, as splice would behind the queue's back.
void write_at(int fd, std::uint64_t offset, const std::string& data) {
  REQUIRE(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)) ==
          static_cast<ssize_t>(data.size()));
}

} // namespace

TEST_CASE("file_end is where the next bytes go once they go into the file", "[byte_queue]") {
  ByteQueue q;
  CHECK_FALSE(q.file_end()); // the heap blocks come first
  std::size_t in_blocks = ByteQueue::block_capacity(0) + ByteQueue::block_capacity(1);
  std::string head = pattern(in_blocks, 5);
  q.append(head);
  auto end = q.file_end(); // the blocks are full: the file is made now
  REQUIRE(end);
  CHECK(end->offset == 0);
  std::string tail = pattern(300'000, 6);
  write_at(end->fd, end->offset, tail);
  q.appended_to_file(tail.size());
  CHECK(q.size() == head.size() + tail.size());
  q.append("after"); // appended bytes follow those written into the file
  CHECK(q.file_end()->offset == tail.size() + 5);
  CHECK(drain(q) == head + tail + "after");
}

TEST_CASE("a queue that prefers its file skips the heap blocks until it is empty", "[byte_queue]") {
  ByteQueue q;
  q.prefer_file();
  auto end = q.file_end();
  REQUIRE(end);
  std::string body = pattern(500'000, 7);
  write_at(end->fd, 0, body);
  q.appended_to_file(body.size());
  auto range = q.file_range();
  REQUIRE(range);
  CHECK(range->offset == 0);
  CHECK(range->length == body.size());
  CHECK(drain(q) == body);
  q.append("small"); // empty again: back to a heap block
  CHECK(q.blocks() == 1);
}

TEST_CASE("a queue can leave giving its file's pages back to the thread pool", "[byte_queue]") {
  ofwatchdog::testing::TestLoop loop;
  int copy = -1;
  {
    ByteQueue q;
    q.release_on(loop.get());
    q.prefer_file();
    copy = ::dup(q.file_end()->fd); // to watch the file after the queue has let it go
    std::string piece(1024 * 1024, 'x');
    for (int i = 0; i < 16; ++i)
      q.append(piece);
    CHECK(file_kib(copy) >= 16 * 1024);
    while (q.size() > ByteQueue::kBlockSize)
      q.consume(q.front().size());
    loop.run(); // the punches run on the pool
    CHECK(file_kib(copy) < 3 * 1024);
    q.append("more");
    CHECK(drain(q).size() == ByteQueue::kBlockSize + 4);
    // Emptied: the file is let go (closed on the pool), not truncated for the next bytes.
    CHECK_FALSE(q.file_end());
    q.prefer_file();
    REQUIRE(q.file_end());
    struct stat old_file {
    }, new_file{};
    REQUIRE(::fstat(copy, &old_file) == 0);
    REQUIRE(::fstat(q.file_end()->fd, &new_file) == 0);
    CHECK(new_file.st_ino != old_file.st_ino);
  }
  loop.run(); // the new file's close
  ::close(copy);
}
