// The llhttp wrapper, driven with raw bytes: bytes in, events out.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http/request_parser.hpp"

using ofwatchdog::Request;
using ofwatchdog::http::RequestParser;
using Status = RequestParser::Status;

namespace {

// Feeds `bytes` in pieces of `step` and records what happened, the way the connection drives
// the parser (resuming after each stop with the unconsumed rest).
struct Trace {
  std::vector<std::string> events;
  std::vector<Request> requests;
  std::string body;
  RequestParser::Error error = RequestParser::Error::none;
};

Trace run(const std::string& bytes, std::size_t step = 1 << 20,
          std::size_t limit = (1u << 20) + 4096) {
  RequestParser parser(limit);
  Trace trace;
  parser.set_body_sink([&](std::string_view data) { trace.body.append(data); });
  std::size_t pos = 0;
  std::size_t fed_until = 0;
  while (pos < bytes.size() || fed_until < bytes.size()) {
    fed_until = std::min(bytes.size(), std::max(fed_until, pos + step));
    auto result = parser.feed(bytes.data() + pos, fed_until - pos);
    pos += result.consumed;
    if (result.status == Status::head_done) {
      trace.events.push_back("head");
      trace.requests.push_back(parser.take_request());
    } else if (result.status == Status::message_done) {
      trace.events.push_back("end");
    } else if (result.status == Status::error) {
      trace.events.push_back("error");
      trace.error = parser.error();
      break;
    } else if (pos >= bytes.size()) {
      break;
    }
  }
  // A body-less message ends only when the parser is resumed, even with no more bytes.
  if (!trace.events.empty() && trace.events.back() == "head") {
    auto result = parser.feed(bytes.data() + pos, 0);
    if (result.status == Status::message_done)
      trace.events.push_back("end");
  }
  return trace;
}

std::string joined(const std::vector<std::string>& events) {
  std::string out;
  for (const auto& e : events) {
    out += (out.empty() ? "" : " ") + e;
  }
  return out;
}

} // namespace

TEST_CASE("a simple GET yields head then end", "[http][parser]") {
  auto t = run("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Thing:  v  \r\n\r\n");
  CHECK(joined(t.events) == "head end");
  REQUIRE(t.requests.size() == 1);
  const Request& r = t.requests[0];
  CHECK(r.method == "GET");
  CHECK(r.target == "/a?b=1");
  CHECK(r.version_major == 1);
  CHECK(r.version_minor == 1);
  REQUIRE(r.headers.size() == 2);
  CHECK(r.headers[0].name == "Host");
  CHECK(r.headers[1].name == "X-Thing");
  CHECK(r.headers[1].value == "v");
  CHECK_FALSE(r.content_length);
  CHECK_FALSE(r.chunked);
}

TEST_CASE("byte-at-a-time input gives the same events", "[http][parser]") {
  auto t = run("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 1);
  CHECK(joined(t.events) == "head end");
  CHECK(t.body == "hello");
  REQUIRE(t.requests.size() == 1);
  CHECK(t.requests[0].content_length == 5u);
}

TEST_CASE("chunked bodies are de-chunked", "[http][parser]") {
  auto t = run("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
  CHECK(joined(t.events) == "head end");
  CHECK(t.body == "hello world");
  CHECK(t.requests[0].chunked);
}

TEST_CASE("pipelined requests stop after each message", "[http][parser]") {
  auto t = run("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(joined(t.events) == "head end head end");
  REQUIRE(t.requests.size() == 2);
  CHECK(t.requests[1].target == "/2");
}

TEST_CASE("malformed requests are errors", "[http][parser]") {
  auto kind = [](const std::string& bytes) { return run(bytes).error; };
  using E = RequestParser::Error;
  CHECK(kind("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             "Transfer-Encoding: chunked\r\n\r\n") == E::bad_request);
  CHECK(kind("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n") ==
        E::bad_request);
  CHECK(kind("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n") == E::bad_request);
  CHECK(kind("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") ==
        E::bad_request);
  CHECK(kind("GARBAGE\r\n\r\n") == E::bad_request);
  // A CONNECT has no content: a length or a coding on one is refused, a zero length is not.
  CHECK(kind("CONNECT h:1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy") == E::bad_request);
  CHECK(kind("CONNECT h:1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        E::bad_request);
  CHECK(kind("CONNECT h:1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") == E::none);
  CHECK(kind("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n") == E::bad_request);
}

TEST_CASE("a head over the limit is reported as too large", "[http][parser]") {
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(200, 'a') + "\r\n\r\n";
  CHECK(run(big, 1 << 20, 100).error == RequestParser::Error::header_too_large);
  CHECK(run(big, 16, 100).error == RequestParser::Error::header_too_large);
  CHECK(run(big, 1 << 20, 1000).error == RequestParser::Error::none);
}

TEST_CASE("header names must be tokens and values free of control characters", "[http][parser]") {
  using E = RequestParser::Error;
  CHECK(run("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n").error == E::bad_request);
  CHECK(run("GET / HTTP/1.1\r\nX: a\x01"
            "b\r\n\r\n")
            .error == E::bad_request);
  CHECK(run("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n").error == E::none);
}

TEST_CASE("bare LF line ends and obsolete versions", "[http][parser]") {
  auto t = run("GET / HTTP/1.0\r\n\r\n");
  REQUIRE(t.requests.size() == 1);
  CHECK(t.requests[0].version_minor == 0);
}

namespace {
std::string chunked_request(const std::string& body) {
  return "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body;
}
} // namespace

TEST_CASE("transfer codings other than one chunked are refused before the head is handed out",
          "[http][parser]") {
  using E = RequestParser::Error;
  auto t = run("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc");
  CHECK(t.error == E::not_implemented);
  CHECK(t.requests.empty());
  CHECK(run("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").error ==
        E::not_implemented);
  CHECK(run("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\n\r\n").error ==
        E::bad_request);
  CHECK(run("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").error ==
        E::bad_request);
  CHECK(run("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: identity"
            "\r\n\r\nx")
            .error == E::bad_request);
}

TEST_CASE("obs-fold and bare LF in a head are refused, in any split", "[http][parser]") {
  using E = RequestParser::Error;
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{1} << 20}) {
    CHECK(run("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", step).error == E::bad_request);
    CHECK(run("GET / HTTP/1.1\r\nHost: x\r\n\n", step).error == E::bad_request);
    CHECK(run("GET / HTTP/1.1\r\nHost: x\r\n\r\n", step).error == E::none);
  }
}

TEST_CASE("chunk framing faults are found in the body", "[http][parser]") {
  using E = RequestParser::Error;
  for (std::size_t step : {std::size_t{1}, std::size_t{1} << 20}) {
    auto big = run(chunked_request("8000000000000000\r\n"), step);
    CHECK(big.error == E::bad_request);
    CHECK(joined(big.events) == "head error");
    CHECK(run(chunked_request("3\r\nabc\r\n0\r\n\n"), step).error == E::bad_request);
    CHECK(run(chunked_request("3\r\nabc\r\n0\r\nX: 1\r\n 2\r\n\r\n"), step).error ==
          E::bad_request);
    CHECK(run(chunked_request("3\r\nabc\r\n0\r\nX: 1\r\n\r\n"), step).error == E::none);
  }
  CHECK(run(chunked_request("7fffffffffffffff\r\n")).error == E::none);
}

TEST_CASE("chunk extensions are capped per request, not per chunk", "[http][parser]") {
  using E = RequestParser::Error;
  const std::size_t cap = RequestParser::kMaxChunkExtensionBytes;
  std::string at_cap = "1;" + std::string(cap - 1, 'e') + "\r\nx\r\n0\r\n\r\n";
  CHECK(run(chunked_request(at_cap)).error == E::none);
  std::string pieces;
  for (int i = 0; i < 17; ++i)
    pieces += "1;" + std::string(1023, 'e') + "\r\nx\r\n";
  CHECK(run(chunked_request(pieces + "0\r\n\r\n")).error == E::bad_request);
  // Each message has its own budget.
  CHECK(joined(run(chunked_request(at_cap) + chunked_request(at_cap)).events) ==
        "head end head end");
}

TEST_CASE("a trailer section over the header limit is too large", "[http][parser]") {
  using E = RequestParser::Error;
  std::string trailers;
  for (int i = 0; i < 20; ++i)
    trailers += "X-T: " + std::string(100, 't') + "\r\n";
  CHECK(run(chunked_request("0\r\n" + trailers + "\r\n"), 1 << 20, 1000).error ==
        E::header_too_large);
  CHECK(run(chunked_request("0\r\n" + trailers + "\r\n"), 7, 1000).error == E::header_too_large);
  CHECK(run(chunked_request("0\r\n" + trailers + "\r\n"), 1 << 20, 4000).error == E::none);
}

TEST_CASE("a head with too many fields is too large, even under the byte limit", "[http][parser]") {
  using E = RequestParser::Error;
  auto head = [](std::size_t fields) {
    std::string out = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (std::size_t i = 1; i < fields; ++i)
      out += "a:b\r\n";
    return out + "\r\n";
  };
  CHECK(run(head(RequestParser::kMaxHeaderCount)).error == E::none);
  CHECK(run(head(RequestParser::kMaxHeaderCount + 1)).error == E::header_too_large);
}

TEST_CASE("resuming a body with no new bytes hands out no empty piece", "[http][parser]") {
  RequestParser parser(1 << 20);
  int pieces = 0;
  parser.set_body_sink([&](std::string_view data) {
    CHECK_FALSE(data.empty());
    ++pieces;
  });
  std::string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nhello";
  auto r = parser.feed(head.data(), head.size());
  REQUIRE(r.status == RequestParser::Status::head_done);
  std::size_t pos = r.consumed;
  parser.feed(head.data() + pos, head.size() - pos);
  for (int i = 0; i < 3; ++i)
    parser.feed(head.data() + head.size(), 0);
  CHECK(pieces == 1);
}

TEST_CASE("chunked followed by a tab is refused before the head is handed out", "[http][parser]") {
  using E = RequestParser::Error;
  for (const char* value : {"chunked\t", "CHUNKED\t", "chunked \t"}) {
    INFO(value);
    auto t = run(std::string("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + value +
                 "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    CHECK(t.error == E::bad_request);
    CHECK(t.requests.empty());
  }
}

TEST_CASE("a request line whose protocol is not HTTP is refused", "[http][parser]") {
  using E = RequestParser::Error;
  for (std::size_t step : {std::size_t{1}, std::size_t{5}, std::size_t{1} << 20}) {
    INFO(step);
    auto ice = run("SOURCE / ICE/1.0\r\nHost: x\r\n\r\n", step);
    CHECK(ice.error == E::bad_request);
    CHECK(ice.requests.empty());
    CHECK(run("GET / RTSP/1.0\r\nHost: x\r\n\r\n", step).error == E::bad_request);
    CHECK(run("SOURCE / HTTP/1.1\r\nHost: x\r\n\r\n", step).error == E::none);
    CHECK(run("GET /a/very/long/path HTTP/1.0\r\n\r\n", step).error == E::none);
  }
}

TEST_CASE("chunk data must be followed by CRLF, in any split", "[http][parser]") {
  using E = RequestParser::Error;
  for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{1} << 20}) {
    INFO(step);
    CHECK(run(chunked_request("3\r\nabcXX0\r\n\r\n"), step).error == E::bad_request);
    CHECK(run(chunked_request("3\r\nabcdef\r\n0\r\n\r\n"), step).error == E::bad_request);
    CHECK(run(chunked_request("3\r\nabc\rX0\r\n\r\n"), step).error == E::bad_request);
    CHECK(run(chunked_request("3\r\nabcX\n0\r\n\r\n"), step).error == E::bad_request);
    auto good = run(chunked_request("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), step);
    CHECK(good.error == E::none);
    CHECK(good.body == "abcde");
    CHECK(joined(good.events) == "head end");
  }
}
