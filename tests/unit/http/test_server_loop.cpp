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
