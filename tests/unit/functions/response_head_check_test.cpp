// check_response_head: what an in-process answer may carry.
#include <catch2/catch.hpp>

#include "ofwatchdog/function.hpp"

using ofwatchdog::check_response_head;

TEST_CASE("a plain head passes") {
  CHECK_FALSE(check_response_head(200, {{"Content-Type", "text/plain"}, {"X-A", "b\tc"}}));
  CHECK_FALSE(check_response_head(599, {}));
  CHECK_FALSE(check_response_head(204, {{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}));
}

TEST_CASE("a status outside 200-599 is refused") {
  for (int status : {-1, 0, 100, 101, 199, 600, 999}) {
    auto wrong = check_response_head(status, {});
    REQUIRE(wrong);
    CHECK(wrong->find("outside 200-599") != std::string::npos);
  }
}

TEST_CASE("a header that could split the response is refused") {
  CHECK(check_response_head(200, {{"X-A", "b\r\nX-Injected: 1"}}));
  CHECK(check_response_head(200, {{"X-A", "b\nc"}}));
  CHECK(check_response_head(200, {{"X-A", std::string("b\0c", 3)}}));
  CHECK(check_response_head(200, {{"X A", "b"}}));
  CHECK(check_response_head(200, {{"X-A\r\n", "b"}}));
  CHECK(check_response_head(200, {{"", "b"}}));
}

TEST_CASE("the framing headers are the watchdog's") {
  for (const char* name : {"Content-Length", "content-length", "Transfer-Encoding", "Connection",
                           "Keep-Alive", "Upgrade", "Trailer"}) {
    auto wrong = check_response_head(200, {{name, "x"}});
    REQUIRE(wrong);
    CHECK(wrong->find("set by the watchdog") != std::string::npos);
  }
}
