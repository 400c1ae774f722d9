// The server inside a real loop: it binds, serves one exchange with the documented event order,
// and leaves nothing open after close(). A thread plays the client with blocking sockets.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "http/server.hpp"

using namespace ofwatchdog;

namespace {

std::string round_trip(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::send(fd, request.data(), request.size(), 0);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

// Records the order of events and answers with the body it received.
class Recorder : public ExchangeHandler {
public:
  Recorder(std::shared_ptr<http::ServerExchange> ex, std::vector<std::string>& log)
      : ex_(std::move(ex)), log_(log) {}
  void start() {
    ex_->on_done([this](const Exchange&) { log_.push_back("done"); });
    ex_->set_handler(this);
    log_.push_back("set_handler returned");
  }
  void on_body(std::string_view data) override { body_.append(data); }
  void on_body_end() override {
    log_.push_back("body_end:" + body_);
    ex_->send_head({201, {{"X-Test", "1"}}, body_.size()});
    ex_->send_body(body_);
    ex_->finish();
    ex_->finish(); // a second finish is ignored
    delete this;
  }
  void on_cancel(CancelReason) override {
    log_.push_back("cancel");
    delete this;
  }

private:
  std::shared_ptr<http::ServerExchange> ex_;
  std::vector<std::string>& log_;
  std::string body_;
};

} // namespace

TEST_CASE("a server binds port 0 and closes with nothing left open", "[http][server]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    http::Server server(&loop, {}, nullptr);
    REQUIRE(server.listen(0) == 0);
    CHECK(server.port() > 0);
    bool closed = false;
    server.close([&] { closed = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(closed);
    CHECK(server.connection_count() == 0);
  }
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("an exchange sees body events after set_handler and on_done once", "[http][server]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  std::vector<std::string> log;
  std::string response;
  {
    http::Server server(&loop, {}, [&](std::shared_ptr<http::ServerExchange> ex) {
      (new Recorder(std::move(ex), log))->start();
    });
    REQUIRE(server.listen(0) == 0);
    int port = server.port();
    uv_async_t finished;
    finished.data = &server;
    uv_async_init(&loop, &finished, [](uv_async_t* async) {
      auto* s = static_cast<http::Server*>(async->data);
      s->close([async] { uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr); });
    });
    std::thread client([&] {
      response = round_trip(port, "POST /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                                  "Content-Length: 3\r\n\r\nabc");
      uv_async_send(&finished);
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    client.join();
  }
  CHECK(uv_loop_close(&loop) == 0);
  REQUIRE(log.size() == 3);
  CHECK(log[0] == "set_handler returned");
  CHECK(log[1] == "body_end:abc");
  CHECK(log[2] == "done");
  CHECK(response.rfind("HTTP/1.1 201 Created\r\n", 0) == 0);
  CHECK(response.find("X-Test: 1\r\n") != std::string::npos);
  CHECK(response.find("Connection: close\r\n") != std::string::npos);
  CHECK(response.size() >= 3);
  CHECK(response.substr(response.size() - 3) == "abc");
}

namespace {

// What a client that sent `Expect: 100-continue` saw: every byte until the server closed (or
// the 5 s receive timeout passed), and whether it was the server that closed.
struct Transcript {
  std::string bytes;
  bool closed_by_server = false;
};

// Sends a POST of "abc" with the expectation. With `send_body`, the body follows the first
// interim or final head, as a client that waited for the go-ahead would send it, and the
// request asks for the connection to close after the response.
Transcript expect_round_trip(int port, bool send_body) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  Transcript t;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    // Without a body to send, the client asks for no close: the server must end the connection
    // on its own, since it cannot tell where a next request would start.
    std::string head = std::string("POST /x HTTP/1.1\r\nHost: h\r\n") +
                       (send_body ? "Connection: close\r\n" : "") +
                       "Content-Length: 3\r\nExpect: 100-continue\r\n\r\n";
    ::send(fd, head.data(), head.size(), 0);
    bool body_sent = !send_body;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
      t.bytes.append(buf, static_cast<std::size_t>(n));
      if (!body_sent && t.bytes.find("\r\n\r\n") != std::string::npos) {
        body_sent = true;
        ::send(fd, "abc", 3, 0);
      }
    }
    t.closed_by_server = n == 0;
  }
  ::close(fd);
  return t;
}

// Takes the client's expectation on itself (defer_continue). With `refuse` it answers 413 at
// once, never saying 100; otherwise it says 100 (twice: the second must be ignored) and echoes
// the body.
class ContinueTaker : public ExchangeHandler {
public:
  ContinueTaker(std::shared_ptr<http::ServerExchange> ex, bool refuse,
                std::vector<std::string>& log)
      : ex_(std::move(ex)), refuse_(refuse), log_(log) {}
  void start() {
    log_.push_back(ex_->defer_continue() ? "deferred" : "not deferred");
    ex_->set_handler(this);
    if (refuse_) {
      ex_->send_head({413, {}, 0});
      ex_->finish();
      delete this; // the exchange is over: nothing more is delivered to this handler
      return;
    }
    ex_->send_continue();
    ex_->send_continue();
  }
  void on_body(std::string_view data) override { body_.append(data); }
  void on_body_end() override {
    ex_->send_head({200, {}, body_.size()});
    ex_->send_body(body_);
    ex_->finish();
    delete this;
  }
  void on_cancel(CancelReason) override {
    log_.push_back("cancel");
    delete this;
  }

private:
  std::shared_ptr<http::ServerExchange> ex_;
  bool refuse_;
  std::vector<std::string>& log_;
  std::string body_;
};

Transcript serve_expectation(bool refuse, std::vector<std::string>& log) {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  Transcript transcript;
  {
    http::Server server(&loop, {}, [&](std::shared_ptr<http::ServerExchange> ex) {
      (new ContinueTaker(std::move(ex), refuse, log))->start();
    });
    REQUIRE(server.listen(0) == 0);
    int port = server.port();
    uv_async_t finished;
    finished.data = &server;
    uv_async_init(&loop, &finished, [](uv_async_t* async) {
      auto* s = static_cast<http::Server*>(async->data);
      s->close([async] { uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr); });
    });
    std::thread client([&] {
      transcript = expect_round_trip(port, !refuse);
      uv_async_send(&finished);
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    client.join();
  }
  CHECK(uv_loop_close(&loop) == 0);
  return transcript;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++count;
  return count;
}

} // namespace

TEST_CASE("a handler that defers 100 Continue sends it once, when it says so",
          "[http][server][expect]") {
  std::vector<std::string> log;
  Transcript t = serve_expectation(false, log);
  REQUIRE(log.size() == 1);
  CHECK(log[0] == "deferred");
  CHECK(t.bytes.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(count_of(t.bytes, "100 Continue") == 1);
  CHECK(t.bytes.substr(t.bytes.size() - 3) == "abc");
  CHECK(t.closed_by_server);
}

TEST_CASE("a final answer to a deferred expectation goes without 100 and ends the connection",
          "[http][server][expect]") {
  std::vector<std::string> log;
  Transcript t = serve_expectation(true, log);
  REQUIRE(log.size() == 1);
  CHECK(log[0] == "deferred");
  CHECK(t.bytes.rfind("HTTP/1.1 413 ", 0) == 0);
  CHECK(count_of(t.bytes, "100 Continue") == 0);
  CHECK(t.bytes.find("Connection: close\r\n") != std::string::npos);
  CHECK(t.closed_by_server);
}
