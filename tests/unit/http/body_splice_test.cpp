// BodySplice on a real loop, with pipes and socket pairs: chunk framing, an exact length that
// leaves the next bytes in the socket, draining once the sink is gone, and an early end.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include <uv.h>

#include "http/body_splice.hpp"

using namespace ofwatchdog;

namespace {

struct Run {
  int status = 1; // 1: Done never ran
  std::uint64_t progress = 0;
  bool closed = false;
};

// Moves with `options` on a fresh loop until the transfer is over and closed.
Run splice_once(http::BodySplice::Options options) {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  Run run;
  {
    http::BodySplice splice(&loop);
    REQUIRE(splice.start(
                std::move(options), [&](std::uint64_t n) { run.progress += n; },
                [&](int status) {
                  run.status = status;
                  splice.close([&] { run.closed = true; });
                }) == 0);
    CHECK(run.status == 1); // never inside start
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  REQUIRE(uv_loop_close(&loop) == 0);
  return run;
}

std::string read_some(int fd) {
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

void write_all(int fd, std::string_view data) {
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
}

} // namespace

TEST_CASE("BodySplice frames a pipe's bytes as chunks until its end", "[http][splice]") {
  int pipe_fds[2];
  int sockets[2];
  REQUIRE(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sockets) == 0);
  write_all(pipe_fds[1], "hello");
  ::close(pipe_fds[1]);
  http::BodySplice::Options options;
  options.source = pipe_fds[0];
  options.sink = sockets[0];
  options.chunked = true;
  Run run = splice_once(std::move(options));
  CHECK(run.status == 0);
  CHECK(run.closed);
  CHECK(run.progress == 5);
  // The terminating chunk is the exchange's to send.
  CHECK(read_some(sockets[1]) == "5\r\nhello\r\n");
  for (int fd : {pipe_fds[0], sockets[0], sockets[1]})
    ::close(fd);
}

TEST_CASE("BodySplice moves exactly the length, prefix first", "[http][splice]") {
  int pipe_fds[2];
  int sockets[2];
  REQUIRE(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sockets) == 0);
  write_all(sockets[0], "world!NEXT");
  http::BodySplice::Options options;
  options.source = sockets[1];
  options.sink = pipe_fds[1];
  options.prefix = "hello ";
  options.length = 12;
  Run run = splice_once(std::move(options));
  CHECK(run.status == 0);
  CHECK(run.progress == 6);
  CHECK(read_some(pipe_fds[0]) == "hello world!");
  // What follows the body stays in the socket (a pipelined request).
  CHECK(read_some(sockets[1]) == "NEXT");
  for (int fd : {pipe_fds[0], pipe_fds[1], sockets[0], sockets[1]})
    ::close(fd);
}

TEST_CASE("BodySplice drains the source when the sink pipe has no reader", "[http][splice]") {
  std::signal(SIGPIPE, SIG_IGN); // as the watchdog does
  int pipe_fds[2];
  int sockets[2];
  REQUIRE(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sockets) == 0);
  ::close(pipe_fds[0]);
  write_all(sockets[0], std::string(3000, 'x') + "NEXT");
  http::BodySplice::Options options;
  options.source = sockets[1];
  options.sink = pipe_fds[1];
  options.prefix = "abc";
  options.length = 3003;
  options.drain_on_sink_error = true;
  Run run = splice_once(std::move(options));
  CHECK(run.status == 0);
  CHECK(read_some(sockets[1]) == "NEXT");
  for (int fd : {pipe_fds[1], sockets[0], sockets[1]})
    ::close(fd);
}

TEST_CASE("BodySplice reports a source that ends before the length", "[http][splice]") {
  int pipe_fds[2];
  int sockets[2];
  REQUIRE(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sockets) == 0);
  write_all(sockets[0], "short");
  ::shutdown(sockets[0], SHUT_WR);
  http::BodySplice::Options options;
  options.source = sockets[1];
  options.sink = pipe_fds[1];
  options.length = 100;
  Run run = splice_once(std::move(options));
  CHECK(run.status == UV_EOF);
  CHECK(read_some(pipe_fds[0]) == "short");
  for (int fd : {pipe_fds[0], pipe_fds[1], sockets[0], sockets[1]})
    ::close(fd);
}
