// ByteChannel on its own: watermarks, end of stream, wakeups only when the loop waits, and
// cancellation of a blocked worker.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>

#include "work/byte_channel.hpp"

namespace {

using ofwatchdog::work::ByteChannel;
using ofwatchdog::work::Watermarks;
using Status = ByteChannel::Status;

// Spins (yielding) until `condition` holds or a few seconds pass; returns whether it held.
template <typename Condition> bool eventually(Condition condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::yield();
  }
  return true;
}

} // namespace

TEST_CASE("push says pause at the high mark and the reader's drain wakes the loop",
          "[work][channel]") {
  std::atomic<int> wakes{0};
  ByteChannel channel(Watermarks{100, 40}, [&] { ++wakes; });
  CHECK_FALSE(channel.push(std::string(60, 'a')));
  CHECK(channel.push(std::string(60, 'b'))); // 120 >= 100: pause
  CHECK(channel.peak() == 120);
  char buffer[50];
  CHECK(channel.read(buffer, sizeof buffer).size == 50); // 70 left: not drained yet
  CHECK(wakes == 0);
  CHECK_FALSE(channel.drained());
  CHECK(channel.read(buffer, 30).size == 30); // 40 left: drained, the loop hears of it
  CHECK(wakes == 1);
  CHECK(channel.drained());
  channel.close_write();
  CHECK(channel.read(buffer, sizeof buffer).size == 40);
  CHECK(channel.read(buffer, sizeof buffer).status == Status::end);
}

TEST_CASE("pull wakes the loop only after it found nothing", "[work][channel]") {
  std::atomic<int> wakes{0};
  ByteChannel channel(Watermarks{100, 40}, [&] { ++wakes; });
  CHECK(channel.write("one") == Status::ok); // the loop has not looked yet: one wakeup
  CHECK(wakes == 1);
  CHECK(channel.write("two") == Status::ok); // still unread: no more
  CHECK(wakes == 1);
  std::string piece;
  CHECK(channel.pull(piece) == Status::ok);
  CHECK(piece == "onetwo"); // small writes share a piece
  CHECK(channel.pull(piece) == Status::empty);
  channel.close_write();
  CHECK(wakes == 2);
  CHECK(channel.pull(piece) == Status::end);
}

TEST_CASE("a large write never buffers more than the high mark", "[work][channel]") {
  ByteChannel channel(Watermarks{1000, 200}, nullptr);
  std::string data(10'000, 'z');
  std::thread writer([&] {
    channel.write(data);
    channel.close_write();
  });
  std::string got, piece;
  for (;;) {
    Status status = channel.pull(piece);
    if (status == Status::end)
      break;
    if (status == Status::ok)
      got += piece;
    else
      std::this_thread::yield();
  }
  writer.join();
  CHECK(got == data);
  CHECK(channel.peak() <= 1000);
}

TEST_CASE("cancel wakes a worker blocked in either direction", "[work][channel]") {
  ByteChannel channel(Watermarks{100, 40}, nullptr);
  bool writing = GENERATE(false, true);
  std::atomic<int> result{-1};
  std::thread worker([&] {
    if (writing) {
      result = static_cast<int>(channel.write(std::string(500, 'w')));
    } else {
      char buffer[10];
      result = static_cast<int>(channel.read(buffer, sizeof buffer).status);
    }
  });
  REQUIRE(eventually([&] { return channel.worker_blocked(); }));
  channel.cancel();
  worker.join();
  CHECK(result == static_cast<int>(Status::cancelled));
  std::string piece;
  CHECK(channel.pull(piece) == Status::cancelled);
  CHECK_FALSE(channel.push("more"));
}

TEST_CASE("a reader that leaves releases a blocked writer", "[work][channel]") {
  ByteChannel channel(Watermarks{100, 40}, nullptr);
  std::atomic<int> result{-1};
  std::thread worker([&] { result = static_cast<int>(channel.write(std::string(500, 'w'))); });
  REQUIRE(eventually([&] { return channel.worker_blocked(); }));
  channel.close_read();
  worker.join();
  CHECK(result == static_cast<int>(Status::cancelled));
  CHECK(channel.buffered() == 0);
}

TEST_CASE("wait ends at its deadline, when data comes, and when the stream fails",
          "[work][channel]") {
  using Clock = std::chrono::steady_clock;
  ByteChannel channel(Watermarks{100, 40}, nullptr);
  // Nothing comes: a short deadline passes, with or without interest in data.
  CHECK(channel.wait(true, Clock::now() + std::chrono::milliseconds(5)) == Status::empty);
  CHECK(channel.wait(false, Clock::now() + std::chrono::milliseconds(5)) == Status::empty);
  CHECK_FALSE(channel.readable());

  SECTION("data wakes a waiter that wants it") {
    std::atomic<int> result{-1};
    std::thread worker([&] {
      result = static_cast<int>(channel.wait(true, Clock::now() + std::chrono::hours(1)));
    });
    REQUIRE(eventually([&] { return channel.worker_blocked(); }));
    channel.push("x");
    worker.join();
    CHECK(result == static_cast<int>(Status::ok));
    CHECK(channel.readable());
    // Data does not end a wait that only sleeps.
    CHECK(channel.wait(false, Clock::now() + std::chrono::milliseconds(5)) == Status::empty);
  }
  SECTION("cancel wakes a sleeper") {
    std::atomic<int> result{-1};
    std::thread worker([&] {
      result = static_cast<int>(channel.wait(false, Clock::now() + std::chrono::hours(1)));
    });
    REQUIRE(eventually([&] { return channel.worker_blocked(); }));
    channel.cancel();
    worker.join();
    CHECK(result == static_cast<int>(Status::cancelled));
    CHECK(channel.readable());
  }
}
