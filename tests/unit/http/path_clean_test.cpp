// Request-target splitting, percent-decoding and the canonical path behind the 301.

#include <catch2/catch.hpp>

#include "http/path_clean.hpp"

using namespace ofwatchdog::http;

TEST_CASE("clean_path resolves like Go's path.Clean and keeps a trailing slash", "[http][path]") {
  CHECK(clean_path("/") == "/");
  CHECK(clean_path("") == "/");
  CHECK(clean_path("/a/b") == "/a/b");
  CHECK(clean_path("//a//b") == "/a/b");
  CHECK(clean_path("/a/../b") == "/b");
  CHECK(clean_path("/a/./b/") == "/a/b/");
  CHECK(clean_path("/a/b/") == "/a/b/");
  CHECK(clean_path("/..") == "/");
  CHECK(clean_path("/../../x") == "/x");
  CHECK(clean_path("/a/.") == "/a");
  CHECK(clean_path("/a/..") == "/");
  CHECK(clean_path("/a/b/..") == "/a");
  CHECK(clean_path("a/b") == "/a/b");
  CHECK(clean_path("*") == "/*");
  CHECK(clean_path("/_/health/") == "/_/health/");
}

TEST_CASE("percent_decode decodes escapes and rejects broken ones", "[http][path]") {
  CHECK(percent_decode("/a%20b") == std::optional<std::string>("/a b"));
  CHECK(percent_decode("/a%2Fb%2f") == std::optional<std::string>("/a/b/"));
  CHECK(percent_decode("/plain") == std::optional<std::string>("/plain"));
  CHECK(percent_decode("/a+b") == std::optional<std::string>("/a+b"));
  CHECK_FALSE(percent_decode("/a%zz"));
  CHECK_FALSE(percent_decode("/a%2"));
  CHECK_FALSE(percent_decode("/a%"));
  CHECK_FALSE(percent_decode("%g0"));
}

TEST_CASE("split_target handles origin and absolute forms", "[http][path]") {
  auto p = split_target("/a/b?x=1&y=%20");
  CHECK(p.path == "/a/b");
  CHECK(p.query == "x=1&y=%20");
  CHECK(p.has_query);

  p = split_target("/plain");
  CHECK(p.path == "/plain");
  CHECK_FALSE(p.has_query);

  p = split_target("/q?");
  CHECK(p.has_query);
  CHECK(p.query.empty());

  p = split_target("http://example.com:8080/abs/x?q=2");
  CHECK(p.path == "/abs/x");
  CHECK(p.query == "q=2");

  p = split_target("https://example.com");
  CHECK(p.path.empty());
  CHECK_FALSE(p.has_query);

  p = split_target("http://example.com?q");
  CHECK(p.path.empty());
  CHECK(p.query == "q");
}

TEST_CASE("escape_path and html_escape", "[http][path]") {
  CHECK(escape_path("/a b/c") == "/a%20b/c");
  CHECK(escape_path("/a-b_c.d~e$&+,:;=@") == "/a-b_c.d~e$&+,:;=@");
  CHECK(escape_path("/?#%") == "/%3F%23%25");
  CHECK(escape_path("/\xC3\xA9") == "/%C3%A9");
  CHECK(escape_query("a=1&b=%41+c") == "a=1&b=%41+c");
  CHECK(escape_query("a b\x0c\x7f\x80\xff") == "a%20b%0C%7F%80%FF");
  CHECK(html_escape("/a?b=1&c=<\"'>") == "/a?b=1&amp;c=&lt;&#34;&#39;&gt;");
}
