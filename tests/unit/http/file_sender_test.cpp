// File bodies with sendfile: FileSender on its own (socket pairs on a real loop), and the server
// sending a file range through Exchange::send_file to a real client, keep-alive included.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "../test_files.hpp"
#include "http/file_sender.hpp"
#include "http/server.hpp"

using namespace ofwatchdog;

namespace {

using ofwatchdog::testing::open_fd_count;
using ofwatchdog::testing::write_file;

// A temporary file with `size` bytes of a pattern that shows any offset mistake.
struct TempFile {
  explicit TempFile(std::size_t size) {
    char name[] = "/tmp/ofwatchdog-sendfile-XXXXXX";
    fd = ::mkstemp(name);
    ::unlink(name);
    content.resize(size);
    for (std::size_t i = 0; i < size; ++i)
      content[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd, content.data() + done, size - done);
      REQUIRE(n > 0);
      done += static_cast<std::size_t>(n);
    }
  }
  ~TempFile() { ::close(fd); }
  int fd = -1;
  std::string content;
};

// Allows or forbids sendfile calls on the loop for one test, and restores the default.
struct InlineCalls {
  explicit InlineCalls(bool allowed) { http::FileSender::set_inline_calls(allowed); }
  ~InlineCalls() { http::FileSender::set_inline_calls(true); }
};

struct SenderRun {
  int status = 1; // 1: Done never ran
  std::uint64_t progress = 0;
  bool closed = false;
};

} // namespace

TEST_CASE("FileSender reports a file it cannot sendfile from as unsupported", "[http][sendfile]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  int fds_before = open_fd_count();
  int sockets[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sockets) == 0);
  // A directory cannot be spliced from: sendfile gives EINVAL, as it does for files of some
  // file systems (procfs, for one). The caller must fall back to reading, not fail.
  int dir_fd = ::open("/tmp", O_RDONLY | O_DIRECTORY);
  REQUIRE(dir_fd >= 0);
  SenderRun run;
  {
    http::FileSender sender(&loop);
    REQUIRE(sender.open(sockets[0]) == 0);
    REQUIRE(sender.start(
                dir_fd, 0, 100, [&](std::uint64_t n) { run.progress += n; },
                [&](int status) { run.status = status; }) == 0);
    CHECK(run.status == 1); // never inside start
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(run.status == http::FileSender::kUnsupported);
    CHECK(run.progress == 0);
    sender.close([&] { run.closed = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(run.closed);
  }
  ::close(dir_fd);
  ::close(sockets[0]);
  ::close(sockets[1]);
  CHECK(open_fd_count() == fds_before);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("FileSender reports a file that ended early as UV_EOF", "[http][sendfile]") {
  // Either way: a range past the end of the file is never all in the page cache, so the call is
  // the thread pool's even when calls on the loop are allowed.
  InlineCalls inline_calls(GENERATE(true, false));
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  TempFile file(10000);
  int sockets[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sockets) == 0);
  SenderRun run;
  {
    http::FileSender sender(&loop);
    REQUIRE(sender.open(sockets[0]) == 0);
    REQUIRE(sender.start(
                file.fd, 100, 20000, [&](std::uint64_t n) { run.progress += n; },
                [&](int status) { run.status = status; }) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(run.status == UV_EOF);
    CHECK(run.progress == 9900);
    CHECK(sender.inline_count() == 0);
    sender.close([&] { run.closed = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(run.closed);
  }
  std::string got(20000, '\0');
  ssize_t n = ::read(sockets[1], got.data(), got.size());
  REQUIRE(n == 9900);
  got.resize(9900);
  CHECK(got == file.content.substr(100));
  ::close(sockets[0]);
  ::close(sockets[1]);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("FileSender waits on a full socket and can be cancelled and closed there",
          "[http][sendfile]") {
  bool on_loop = GENERATE(true, false);
  InlineCalls inline_calls(on_loop);
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  int fds_before = open_fd_count();
  {
    TempFile file(8u << 20);
    int sockets[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sockets) == 0);
    SenderRun run;
    auto* sender = new http::FileSender(&loop);
    REQUIRE(sender->open(sockets[0]) == 0);
    // Nobody reads the other end: the socket fills, and the sender must wait in epoll rather
    // than spin or block a pool thread. The first progress report is the moment to give up.
    REQUIRE(sender->start(
                file.fd, 0, file.content.size(),
                [&](std::uint64_t n) {
                  run.progress += n;
                  sender->cancel();
                  sender->close([&] { run.closed = true; });
                },
                [&](int status) { run.status = status; }) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(run.closed);
    CHECK(run.status == 1); // a cancelled transfer reports nothing
    CHECK(run.progress > 0);
    CHECK(run.progress < file.content.size());
    // The file was just written, so it is in the page cache: the calls are made on the loop
    // when that is allowed.
    CHECK((sender->inline_count() > 0) == on_loop);
    delete sender;
    ::close(sockets[0]);
    ::close(sockets[1]);
  }
  CHECK(open_fd_count() == fds_before); // both duplicates closed
  CHECK(uv_loop_close(&loop) == 0);
}

namespace {

// Answers `/file` with a range of the file through Exchange::send_file, anything else with "ok".
class FileHandler : public ExchangeHandler {
public:
  FileHandler(std::shared_ptr<http::ServerExchange> ex, const TempFile& file,
              std::vector<std::string>& log)
      : ex_(std::move(ex)), file_(file), log_(log) {}
  static constexpr std::uint64_t kOffset = 1000;
  static constexpr std::uint64_t kLength = 3u << 20;

  void start() {
    ex_->on_done([this](const Exchange& ex) {
      log_.push_back("done:" + std::to_string(ex.body_bytes_sent()));
    });
    ex_->set_handler(this);
  }
  void on_body(std::string_view) override {}
  void on_body_end() override {
    auto log_file = [this](int status, std::uint64_t sent) {
      log_.push_back("file:" + std::to_string(status) + ":" + std::to_string(sent));
      ex_->finish();
      delete this;
    };
    if (ex_->request().path != "/file") {
      CHECK(!ex_->send_file(file_.fd, 0, 2, log_file)); // no head yet
      ex_->send_head({200, {}, 2});
      ex_->send_body("ok");
      ex_->finish();
      delete this;
      return;
    }
    ex_->send_head({200, {}, kLength});
    if (ex_->request().method == "HEAD") {
      CHECK(!ex_->send_file(file_.fd, kOffset, kLength, log_file)); // no body to send
      ex_->finish();
      delete this;
      return;
    }
    CHECK(!ex_->send_file(file_.fd, kOffset, kLength + 1, log_file)); // past the length
    REQUIRE(ex_->send_file(file_.fd, kOffset, kLength, log_file));
    CHECK(!ex_->send_file(file_.fd, kOffset, 1, log_file)); // one transfer at a time
  }
  void on_cancel(CancelReason) override {
    log_.push_back("cancel");
    delete this;
  }

private:
  std::shared_ptr<http::ServerExchange> ex_;
  const TempFile& file_;
  std::vector<std::string>& log_;
};

std::string client_exchange(int port, const std::string& requests) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::send(fd, requests.data(), requests.size(), 0);
    std::vector<char> buf(1 << 16);
    ssize_t n;
    while ((n = ::recv(fd, buf.data(), buf.size(), 0)) > 0)
      out.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

} // namespace

TEST_CASE("the server sends a file range as the body and keeps the connection",
          "[http][sendfile]") {
  InlineCalls inline_calls(GENERATE(true, false));
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  TempFile file(4u << 20);
  std::vector<std::string> log;
  std::string response;
  {
    http::Server server(&loop, {}, [&](std::shared_ptr<http::ServerExchange> ex) {
      (new FileHandler(std::move(ex), file, log))->start();
    });
    REQUIRE(server.listen(0) == 0);
    int port = server.port();
    uv_async_t finished;
    finished.data = &server;
    uv_async_init(&loop, &finished, [](uv_async_t* async) {
      auto* s = static_cast<http::Server*>(async->data);
      s->close([async] { uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr); });
    });
    // Pipelined: the second and third requests wait behind the file.
    std::thread client([&] {
      response =
          client_exchange(port, "GET /file HTTP/1.1\r\nHost: h\r\n\r\n"
                                "HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n"
                                "GET /small HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
      uv_async_send(&finished);
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    client.join();
  }
  CHECK(uv_loop_close(&loop) == 0);
  const std::uint64_t length = FileHandler::kLength;
  REQUIRE(log.size() == 4);
  CHECK(log[0] == "file:0:" + std::to_string(length));
  CHECK(log[1] == "done:" + std::to_string(length)); // body_bytes_sent counts the file bytes
  CHECK(log[2] == "done:0");
  CHECK(log[3] == "done:2");
  std::size_t head_end = response.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  CHECK(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(response.find("Content-Length: " + std::to_string(length) + "\r\n") < head_end);
  std::string body = response.substr(head_end + 4, length);
  CHECK(body == file.content.substr(FileHandler::kOffset, length));
  std::string rest = response.substr(head_end + 4 + length);
  // The HEAD answer (no body), then the last one, in order.
  CHECK(rest.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  std::size_t second_end = rest.find("\r\n\r\n");
  REQUIRE(second_end != std::string::npos);
  std::string third = rest.substr(second_end + 4);
  CHECK(third.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(third.size() >= 2);
  CHECK(third.substr(third.size() - 2) == "ok");
}
