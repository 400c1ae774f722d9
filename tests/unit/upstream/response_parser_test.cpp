#include <catch2/catch.hpp>

#include <string>

#include "upstream/response_parser.hpp"

using namespace ofwatchdog::upstream;

namespace {
struct Recorder : ResponseEvents {
  int heads = 0;
  int continues = 0;
  UpstreamResponse head;
  std::string body;
  void on_response_head(UpstreamResponse& r) override {
    ++heads;
    head = r;
  }
  void on_response_body(std::string_view d) override { body.append(d); }
  void on_continue() override { ++continues; }
};
} // namespace

TEST_CASE("response parser: a Content-Length response, then stop") {
  Recorder rec;
  ResponseParser p(rec, 1 << 20);
  p.begin("GET");
  std::string wire = "HTTP/1.1 201 Made It\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabcEXTRA";
  auto r = p.feed(wire.data(), wire.size());
  CHECK(r.status == ResponseParser::Status::complete);
  CHECK(wire.substr(r.consumed) == "EXTRA");
  CHECK(rec.head.status == 201);
  CHECK(rec.head.reason == "Made It");
  CHECK(rec.head.content_length == 3u);
  CHECK(rec.body == "abc");
  CHECK(p.keep_alive());
}

TEST_CASE("response parser: chunked, in pieces, and interim 100 skipped") {
  Recorder rec;
  ResponseParser p(rec, 1 << 20);
  p.begin("POST");
  std::string wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  ResponseParser::Result r;
  for (char c : wire) {
    r = p.feed(&c, 1);
    REQUIRE(r.status != ResponseParser::Status::error);
  }
  CHECK(r.status == ResponseParser::Status::complete);
  CHECK(rec.heads == 1);
  CHECK(rec.continues == 1);
  CHECK(rec.head.chunked);
  CHECK_FALSE(rec.head.content_length);
  CHECK(rec.body == "abcde");
}

TEST_CASE("response parser: HEAD has no body; close-delimited ends at EOF") {
  Recorder rec;
  ResponseParser p(rec, 1 << 20);
  p.begin("HEAD");
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  CHECK(p.feed(head.data(), head.size()).status == ResponseParser::Status::complete);

  Recorder rec2;
  ResponseParser q(rec2, 1 << 20);
  q.begin("GET");
  std::string wire = "HTTP/1.1 200 OK\r\n\r\nuntil close";
  CHECK(q.feed(wire.data(), wire.size()).status == ResponseParser::Status::need_more);
  CHECK(q.finish());
  CHECK(rec2.body == "until close");
  CHECK_FALSE(q.keep_alive());
}

TEST_CASE("response parser: strict about framing, and a 101 ends HTTP") {
  Recorder rec;
  ResponseParser p(rec, 1 << 20);
  p.begin("GET");
  std::string bad = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
  CHECK(p.feed(bad.data(), bad.size()).status == ResponseParser::Status::error);
  CHECK_FALSE(p.error_text().empty());

  Recorder rec2;
  ResponseParser q(rec2, 1 << 20);
  q.begin("GET");
  std::string up = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                   "Upgrade\r\n\r\nRAW";
  auto r = q.feed(up.data(), up.size());
  CHECK(r.status == ResponseParser::Status::complete);
  CHECK(rec2.head.switching_protocols);
  CHECK(up.substr(r.consumed) == "RAW");

  Recorder rec3;
  ResponseParser small(rec3, 16);
  small.begin("GET");
  std::string big = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n";
  CHECK(small.feed(big.data(), big.size()).status == ResponseParser::Status::error);
}

TEST_CASE("response parser: a field the client could split on is an error, not relayed") {
  for (std::string field : {std::string("X-A: a\0b", 8), std::string("X-A: a\rb"),
                            std::string("Bad Name: x"), std::string("X-A: \x7f")}) {
    Recorder rec;
    ResponseParser p(rec, 1 << 20);
    p.begin("GET");
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + field + "\r\n\r\n";
    CHECK(p.feed(wire.data(), wire.size()).status == ResponseParser::Status::error);
    CHECK(rec.heads == 0);
    CHECK_FALSE(p.error_text().empty());
  }
}

TEST_CASE("response parser: only a 100 is reported as the go-ahead, other 1xx are skipped") {
  Recorder rec;
  ResponseParser p(rec, 1 << 20);
  p.begin("POST");
  std::string wire = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 413 Too Big\r\nContent-Length: 0\r\n\r\n";
  CHECK(p.feed(wire.data(), wire.size()).status == ResponseParser::Status::complete);
  CHECK(rec.continues == 1);
  CHECK(rec.heads == 1);
  CHECK(rec.head.status == 413);
}
