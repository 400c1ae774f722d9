// The write queue: nothing leaves before `flush`, one flush sends everything pending, and what the
// socket does not take at once goes out later as a uv_write.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <uv.h>

#include "../process/test_loop.hpp"
#include "http/write_queue.hpp"

namespace {

using ofwatchdog::http::WriteQueue;
using ofwatchdog::testing::TestLoop;

// A connected pair of local stream sockets; `writer` is opened as a libuv pipe handle.
struct SocketPair {
  explicit SocketPair(uv_loop_t* loop) {
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    REQUIRE(uv_pipe_init(loop, &writer, 0) == 0);
    REQUIRE(uv_pipe_open(&writer, fds[0]) == 0);
    writer.data = this;
  }
  ~SocketPair() {
    uv_close(reinterpret_cast<uv_handle_t*>(&writer), nullptr);
    if (fds[1] >= 0)
      ::close(fds[1]);
  }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&writer); }
  // What the peer can read without waiting.
  std::string drain_peer() {
    std::string got;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT)) > 0)
      got.append(buf, static_cast<std::size_t>(n));
    return got;
  }

  int fds[2] = {-1, -1};
  uv_pipe_t writer{};
};

struct Events {
  int pending = 0;
  int written = 0;
  int last_status = 1;
};

} // namespace

TEST_CASE("the write queue holds bytes until flush, then sends them together", "[http][write]") {
  TestLoop loop;
  {
    SocketPair pair(loop.get());
    Events events;
    WriteQueue queue(
        pair.stream(), [&events](int status) { ++events.written, events.last_status = status; },
        [&events] { ++events.pending; });
    queue.write(std::string_view("HTTP/1.1 200 OK\r\n\r\n"));
    queue.write(std::string("hello"));
    CHECK(events.pending == 1); // one request to flush for the whole turn
    CHECK(queue.queued() == 24);
    CHECK(pair.drain_peer().empty());
    queue.flush();
    CHECK(pair.drain_peer() == "HTTP/1.1 200 OK\r\n\r\nhello");
    CHECK(events.written == 1);
    CHECK(events.last_status == 0);
    CHECK(queue.idle());
    queue.write(std::string_view("next"));
    CHECK(events.pending == 2);
    queue.flush();
    CHECK(pair.drain_peer() == "next");
  }
  loop.run();
}

TEST_CASE("what the socket does not take at once is written as the peer reads", "[http][write]") {
  TestLoop loop;
  {
    SocketPair pair(loop.get());
    int small = 4096;
    setsockopt(pair.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    Events events;
    WriteQueue queue(
        pair.stream(), [&events](int status) { ++events.written, events.last_status = status; },
        [&events] { ++events.pending; });
    std::string body;
    for (int i = 0; body.size() < 3 * 1024 * 1024; ++i)
      body += std::to_string(i) + ',';
    queue.write(std::string_view(body));
    queue.flush();
    CHECK(events.written == 0); // the rest is in flight
    CHECK(queue.queued() > 0);
    CHECK(queue.queued() < body.size());
    std::string got;
    loop.run_until([&] {
      got += pair.drain_peer();
      return events.written > 0 && got.size() == body.size();
    });
    CHECK(events.last_status == 0);
    CHECK(got == body);
    CHECK(queue.idle());
  }
  loop.run();
}

TEST_CASE("a write to a closed peer is reported from flush", "[http][write]") {
  std::signal(SIGPIPE, SIG_IGN);
  TestLoop loop;
  {
    SocketPair pair(loop.get());
    ::close(pair.fds[1]);
    pair.fds[1] = -1;
    Events events;
    WriteQueue queue(
        pair.stream(), [&events](int status) { ++events.written, events.last_status = status; },
        [&events] { ++events.pending; });
    queue.write(std::string_view("lost"));
    CHECK(events.written == 0);
    queue.flush();
    CHECK(events.written == 1);
    CHECK(events.last_status < 0);
  }
  loop.run();
}

TEST_CASE("a large piece goes to the socket at once, behind what is pending", "[http][write]") {
  TestLoop loop;
  {
    SocketPair pair(loop.get());
    Events events;
    WriteQueue queue(
        pair.stream(), [&events](int status) { ++events.written, events.last_status = status; },
        [&events] { ++events.pending; });
    queue.write(std::string_view("HTTP/1.1 200 OK\r\n\r\n"));
    CHECK(events.pending == 1);
    std::string body(WriteQueue::kWriteThrough, 'b');
    queue.write(std::string_view(body));
    // Written through without waiting for the flush, the head first; nothing is left to do.
    CHECK(pair.drain_peer() == "HTTP/1.1 200 OK\r\n\r\n" + body);
    CHECK(queue.idle());
    CHECK(events.written == 0); // never reported from inside write
    queue.flush();
    CHECK(pair.drain_peer().empty());
    // A small piece is still held for the flush.
    queue.write(std::string_view("tail"));
    CHECK(pair.drain_peer().empty());
    queue.flush();
    CHECK(pair.drain_peer() == "tail");
  }
  loop.run();
}

TEST_CASE("pieces are written through as one, and what the socket refuses is kept in order",
          "[http][write]") {
  TestLoop loop;
  {
    SocketPair pair(loop.get());
    int small = 4096;
    setsockopt(pair.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    Events events;
    WriteQueue queue(
        pair.stream(), [&events](int status) { ++events.written, events.last_status = status; },
        [&events] { ++events.pending; });
    std::string expected;
    std::string data;
    for (int i = 0; data.size() < 512 * 1024; ++i)
      data += std::to_string(i) + ',';
    queue.write(std::string_view("head;"));
    queue.write({std::string_view("[1:"), std::string_view(data), std::string_view("]")});
    expected = "head;[1:" + data + "]";
    // The socket took part at once; the rest waits, copied, and a second piece queues behind it.
    CHECK(queue.queued() > 0);
    CHECK(queue.queued() < expected.size());
    queue.write({std::string_view("[2:"), std::string_view(data), std::string_view("]")});
    expected += "[2:" + data + "]";
    queue.flush();
    std::string got;
    loop.run_until([&] {
      got += pair.drain_peer();
      return got.size() == expected.size() && queue.idle();
    });
    CHECK(got == expected);
    CHECK(events.last_status == 0);
  }
  loop.run();
}
