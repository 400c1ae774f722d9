// The framing rules added to llhttp: transfer-coding lists and the line discipline.

#include <catch2/catch.hpp>

#include "http/framing_rules.hpp"

using ofwatchdog::HeaderList;
using ofwatchdog::http::CodingVerdict;
using ofwatchdog::http::judge_transfer_coding;
using ofwatchdog::http::LineDiscipline;

namespace {
CodingVerdict coding(std::initializer_list<const char*> values) {
  HeaderList headers{{"Host", "x"}};
  for (const char* v : values)
    headers.push_back({"transfer-encoding", v});
  return judge_transfer_coding(headers);
}
} // namespace

TEST_CASE("only a single chunked is a coding we can read", "[http][framing]") {
  CHECK(coding({}) == CodingVerdict::none);
  CHECK(coding({"chunked"}) == CodingVerdict::chunked);
  CHECK(coding({" Chunked\t"}) == CodingVerdict::chunked);
  CHECK(coding({"gzip"}) == CodingVerdict::unsupported);
  CHECK(coding({"gzip, chunked"}) == CodingVerdict::unsupported);
  CHECK(coding({"chunked;q=1"}) == CodingVerdict::unsupported);
  CHECK(coding({"chunkedx"}) == CodingVerdict::unsupported);
  CHECK(coding({",chunked"}) == CodingVerdict::malformed);
  CHECK(coding({"chunked,"}) == CodingVerdict::malformed);
  CHECK(coding({""}) == CodingVerdict::malformed);
  CHECK(coding({"chunked", "chunked"}) == CodingVerdict::malformed);
  CHECK(coding({"gzip", "chunked, chunked"}) == CodingVerdict::malformed);
}

TEST_CASE("the line discipline finds bare LF, lone CR and obs-fold across pieces",
          "[http][framing]") {
  auto fault = [](std::string_view bytes, std::size_t step, bool trailers) {
    LineDiscipline lines;
    trailers ? lines.begin_trailers() : lines.begin_head();
    for (std::size_t i = 0; i < bytes.size(); i += step) {
      std::string_view found = lines.scan(bytes.substr(i, step));
      if (!found.empty())
        return std::string(found);
    }
    return std::string();
  };
  for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{100}}) {
    CHECK(fault("GET / HTTP/1.1\r\nA: b\r\n\r\n", step, false).empty());
    CHECK(fault("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", step, false).find("obs-fold") == 0);
    CHECK(fault("GET / HTTP/1.1\r\nA: b\n\r\n", step, false) == "LF without CR");
    CHECK(fault("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", step, false) == "CR not followed by LF");
    CHECK(fault(" X: 1\r\n\r\n", step, true).find("obs-fold") == 0);
    CHECK(fault("X: 1\r\n\r\n", step, true).empty());
  }
}

TEST_CASE("the request line's version is read from its last bytes, in any pieces",
          "[http][framing]") {
  auto is_http = [](std::string_view head, std::size_t step) {
    LineDiscipline lines;
    lines.begin_head();
    for (std::size_t i = 0; i < head.size(); i += step)
      REQUIRE(lines.scan(head.substr(i, step)).empty());
    return lines.request_line_is_http();
  };
  for (std::size_t step :
       {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{100}}) {
    INFO("pieces of " << step);
    CHECK(is_http("GET / HTTP/1.1\r\nHost: a\r\n\r\n", step));
    CHECK(is_http("GET /a/long/path/with?query=1&more=2 HTTP/1.0\r\n\r\n", step));
    CHECK(is_http(" HTTP/1.1\r\n\r\n", step));
    CHECK_FALSE(is_http("GET / RTSP/1.0\r\nHost: a\r\n\r\n", step));
    CHECK_FALSE(is_http("SOURCE / ICE/1.0\r\n\r\n", step));
    CHECK_FALSE(is_http("HTTP/1.1\r\n\r\n", step));
    // A header line that looks like a version does not count: only the first line does.
    CHECK_FALSE(is_http("GET / ICE/1.0\r\nX: a HTTP/1.1\r\n\r\n", step));
  }
}
