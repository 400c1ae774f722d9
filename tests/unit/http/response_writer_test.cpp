// Status texts, the Date format, head serialisation and chunk framing.

#include <catch2/catch.hpp>

#include "http/http_date.hpp"
#include "http/response_writer.hpp"
#include "http/status_text.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::http;

TEST_CASE("status texts match the standard reason phrases", "[http][status]") {
  CHECK(status_text(200) == "OK");
  CHECK(status_text(301) == "Moved Permanently");
  CHECK(status_text(431) == "Request Header Fields Too Large");
  CHECK(status_text(502) == "Bad Gateway");
  CHECK(status_text(599).empty());
  CHECK(status_reason(404) == "Not Found");
  CHECK(status_reason(599) == "status code 599");
}

TEST_CASE("dates are RFC 1123 in GMT", "[http][date]") {
  CHECK(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(1709251199) == "Thu, 29 Feb 2024 23:59:59 GMT");
  HttpDateCache cache;
  std::string first(cache.now());
  CHECK(first.size() == 29);
  CHECK(first.substr(25) == " GMT");
}

TEST_CASE("framing follows method, version, status and known length", "[http][framing]") {
  Framing f = choose_framing("GET", false, 200, std::nullopt);
  CHECK(f.chunked);
  CHECK(f.body_allowed);
  CHECK_FALSE(f.content_length);

  f = choose_framing("GET", true, 200, std::nullopt);
  CHECK(f.close_delimited);
  CHECK_FALSE(f.chunked);

  f = choose_framing("POST", false, 200, 12);
  CHECK(f.content_length == 12u);
  CHECK_FALSE(f.chunked);

  f = choose_framing("HEAD", false, 200, 1000);
  CHECK_FALSE(f.body_allowed);
  CHECK(f.content_length == 1000u);

  f = choose_framing("HEAD", false, 200, std::nullopt);
  CHECK_FALSE(f.body_allowed);
  CHECK_FALSE(f.chunked);

  f = choose_framing("GET", false, 204, 5);
  CHECK_FALSE(f.body_allowed);
  CHECK_FALSE(f.content_length);

  f = choose_framing("GET", false, 304, 5);
  CHECK_FALSE(f.body_allowed);
  CHECK(f.content_length == 5u);
}

TEST_CASE("the head is serialised with Date, framing and Connection", "[http][head]") {
  HeaderList headers{{"Content-Type", "text/plain"},
                     {"X-Evil", "a\r\nInjected: 1"},
                     {"Content-Length", "999"},
                     {"Connection", "upgrade"}};
  Framing chunked = choose_framing("GET", false, 200, std::nullopt);
  std::string head = serialize_head(200, headers, chunked, "Thu, 01 Jan 1970 00:00:00 GMT", "");
  CHECK(head == "HTTP/1.1 200 OK\r\n"
                "Content-Type: text/plain\r\n"
                "X-Evil: a  Injected: 1\r\n"
                "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                "Transfer-Encoding: chunked\r\n"
                "\r\n");

  Framing sized = choose_framing("GET", false, 404, 3);
  head = serialize_head(404, {{"date", "kept"}}, sized, "ignored", "close");
  CHECK(head == "HTTP/1.1 404 Not Found\r\n"
                "date: kept\r\n"
                "Content-Length: 3\r\n"
                "Connection: close\r\n"
                "\r\n");
}

TEST_CASE("chunks are framed in hex and empty data is not a chunk", "[http][chunk]") {
  std::string out;
  append_chunk(out, "hello");
  append_chunk(out, "");
  append_chunk(out, std::string(255, 'x'));
  CHECK(out.substr(0, 10) == "5\r\nhello\r\n");
  CHECK(out.substr(10, 4) == "ff\r\n");
  CHECK(out.size() == 10 + 4 + 255 + 2);
  CHECK(kLastChunk == "0\r\n\r\n");
}

TEST_CASE("a tunnel head keeps the handler's Connection and Upgrade headers", "[http][head]") {
  Framing tunnel;
  tunnel.tunnel = true;
  std::string head = serialize_head(101, {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}},
                                    tunnel, "D", "close");
  CHECK(head == "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Date: D\r\n\r\n");
  // Without a Connection header from the handler, the one a 101 needs is added.
  head = serialize_head(101, {{"Upgrade", "echo"}}, tunnel, "D", {});
  CHECK(head == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nDate: D\r\n"
                "Connection: Upgrade\r\n\r\n");
  // Any other response still has its Connection header replaced.
  Framing plain;
  plain.content_length = 0;
  head = serialize_head(200, {{"Connection", "Upgrade"}}, plain, "D", "close");
  CHECK(head == "HTTP/1.1 200 OK\r\nDate: D\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}
