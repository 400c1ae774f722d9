#include <catch2/catch.hpp>

#include "upstream/upstream_url.hpp"

using namespace ofwatchdog::upstream;

TEST_CASE("upstream URL: host, port and base path") {
  auto url = parse_upstream_url("http://127.0.0.1:5000");
  REQUIRE(url);
  CHECK(url->host == "127.0.0.1");
  CHECK(url->port == 5000);
  CHECK(url->authority == "127.0.0.1:5000");
  CHECK(url->base_path.empty());

  auto named = parse_upstream_url("http://localhost/base/");
  REQUIRE(named);
  CHECK(named->port == 80);
  CHECK(named->base_path == "/base/");

  auto v6 = parse_upstream_url("http://[::1]:8081");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8081);

  CHECK_FALSE(parse_upstream_url("https://x"));
  CHECK_FALSE(parse_upstream_url("http://:80"));
  CHECK_FALSE(parse_upstream_url("http://h:99999"));
  CHECK_FALSE(parse_upstream_url("http://h/p?q"));
}

TEST_CASE("upstream URL: the raw target is appended as text (B5)") {
  auto url = *parse_upstream_url("http://127.0.0.1:5000");
  CHECK(join_target(url, "/echo/p?q=1%202") == "/echo/p?q=1%202");
  CHECK(full_url(url, "/x") == "http://127.0.0.1:5000/x");
  auto base = *parse_upstream_url("http://127.0.0.1:18090/base/");
  CHECK(join_target(base, "/echo?a=b") == "/base//echo?a=b");
}

TEST_CASE("upstream URL: absolute-form targets give only path and query") {
  auto url = *parse_upstream_url("http://127.0.0.1:5000/fn");
  CHECK(join_target(url, "http://other.example/a/b?c=1") == "/fn/a/b?c=1");
  CHECK(join_target(url, "http://other.example") == "/fn/");
  CHECK(target_path_and_query("http://h?x=1") == "?x=1");
  auto bare = *parse_upstream_url("http://127.0.0.1:5000");
  CHECK(join_target(bare, "http://h?x=1") == "/?x=1");
}
