// The static mode's pure rules: paths, content types, ranges, conditions and listings.
#include <catch2/catch.hpp>

#include "modes/static/byte_range.hpp"
#include "modes/static/conditional.hpp"
#include "modes/static/dir_listing.hpp"
#include "modes/static/mime_types.hpp"
#include "modes/static/path_rules.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::modes::static_files;
using Kind = RangeRequest::Kind;

TEST_CASE("static paths: backslashes and NUL bytes are refused", "[static]") {
  CHECK(is_acceptable_path("/a/b.txt"));
  CHECK(is_acceptable_path("/"));
  CHECK_FALSE(is_acceptable_path("/a\\..\\..\\etc\\passwd"));
  CHECK_FALSE(is_acceptable_path(std::string_view("/a\0b", 4)));
}

TEST_CASE("static paths: joining never climbs above the root", "[static]") {
  CHECK(file_system_path("/srv/www", "/") == "/srv/www");
  CHECK(file_system_path("/srv/www/", "/a/b.txt") == "/srv/www/a/b.txt");
  CHECK(file_system_path("/srv/www", "/dir/") == "/srv/www/dir");
  CHECK(file_system_path("/srv/www", "/../etc/passwd") == "/srv/www/etc/passwd");
  CHECK(file_system_path("/srv/www", "/a/../../../etc/passwd") == "/srv/www/etc/passwd");
  CHECK(file_system_path("/srv/www", "//a//./b") == "/srv/www/a/b");
  CHECK(file_system_path("/", "/etc/x") == "/etc/x");
  CHECK(file_system_path("relative", "/x") == "relative/x");
}

TEST_CASE("static paths: the real path must be the root or below it", "[static]") {
  CHECK(is_under_root("/srv/www", "/srv/www"));
  CHECK(is_under_root("/srv/www", "/srv/www/a/b"));
  CHECK_FALSE(is_under_root("/srv/www", "/srv/www-private/x"));
  CHECK_FALSE(is_under_root("/srv/www", "/srv"));
  CHECK_FALSE(is_under_root("/srv/www", "/etc/passwd"));
  CHECK_FALSE(is_under_root("", "/srv/www"));
  CHECK(is_under_root("/", "/etc/passwd"));
}

TEST_CASE("static paths: base names ignore trailing slashes", "[static]") {
  CHECK(base_name("/a/b") == "b");
  CHECK(base_name("/a/b/") == "b");
  CHECK(base_name("/") == "/");
  CHECK(base_name("/x.txt") == "x.txt");
}

TEST_CASE("static MIME table: the original's built-in types, case-insensitively", "[static]") {
  CHECK(content_type_for_name("index.html") == "text/html; charset=utf-8");
  CHECK(content_type_for_name("/a/PAGE.HTM") == "text/html; charset=utf-8");
  CHECK(content_type_for_name("s.css") == "text/css; charset=utf-8");
  CHECK(content_type_for_name("m.mjs") == "text/javascript; charset=utf-8");
  CHECK(content_type_for_name("d.json") == "application/json");
  CHECK(content_type_for_name("i.svg") == "image/svg+xml");
  CHECK(content_type_for_name("w.wasm") == "application/wasm");
  CHECK(content_type_for_name("p.jpeg") == "image/jpeg");
  CHECK_FALSE(content_type_for_name("README"));
  CHECK_FALSE(content_type_for_name("a.unknownext"));
  CHECK_FALSE(content_type_for_name("dir.html/file"));
}

TEST_CASE("static sniffing uses the original's rules for unknown extensions", "[static]") {
  // The full table is tested in tests/unit/http/test_content_sniff.cpp.
  CHECK(sniff_content_type("  <!DOCTYPE html><p>") == "text/html; charset=utf-8");
  CHECK(sniff_content_type(std::string_view("a\0b", 3)) == "application/octet-stream");
  CHECK(sniff_content_type("hello\nw\xc3\xb6rld\t\r\n") == "text/plain; charset=utf-8");
}

TEST_CASE("static ranges: single ranges", "[static]") {
  RangeRequest r = parse_range("bytes=0-9", 100);
  CHECK(r.kind == Kind::single);
  CHECK(r.first == 0);
  CHECK(r.length == 10);

  r = parse_range("bytes=-5", 100);
  CHECK(r.kind == Kind::single);
  CHECK(r.first == 95);
  CHECK(r.length == 5);

  r = parse_range("bytes=5-", 100);
  CHECK(r.kind == Kind::single);
  CHECK(r.first == 5);
  CHECK(r.length == 95);

  r = parse_range("bytes=90-1000", 100); // the end is clamped
  CHECK(r.kind == Kind::single);
  CHECK(r.length == 10);

  r = parse_range("bytes=-500", 100); // a suffix longer than the file is the whole file
  CHECK(r.kind == Kind::single);
  CHECK(r.first == 0);
  CHECK(r.length == 100);

  r = parse_range("bytes= 3 - 4 ", 100);
  CHECK(r.kind == Kind::single);
  CHECK(r.first == 3);
  CHECK(r.length == 2);
}

TEST_CASE("static ranges: malformed headers", "[static]") {
  for (const char* header : {"bytes=a-b", "bytes=5", "bytes=9-3", "items=0-1", "bytes=--5",
                             "bytes=-", "bytes=1-2x", "bytes=99999999999999999999-"}) {
    INFO(header);
    CHECK(parse_range(header, 100).kind == Kind::invalid);
  }
}

TEST_CASE("static ranges: unsatisfiable, absent and multiple", "[static]") {
  CHECK(parse_range("bytes=100-", 100).kind == Kind::unsatisfiable);
  CHECK(parse_range("bytes=200-300", 100).kind == Kind::unsatisfiable);
  CHECK(parse_range("bytes=-0", 100).kind == Kind::unsatisfiable);
  CHECK(parse_range("bytes=0-", 0).kind == Kind::unsatisfiable);
  // A range past the end is dropped when another one overlaps.
  RangeRequest r = parse_range("bytes=200-300, 1-2", 100);
  CHECK(r.kind == Kind::single);
  CHECK(r.first == 1);

  CHECK(parse_range("", 100).kind == Kind::whole);
  CHECK(parse_range("bytes=", 100).kind == Kind::whole);
  CHECK(parse_range("bytes=0-1,5-6", 100).kind == Kind::whole);
  CHECK(parse_range("bytes=0-1, ,5-6", 100).kind == Kind::whole);
}

TEST_CASE("static conditions: HTTP dates in all three forms", "[static]") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == std::time_t{784111777});
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == std::time_t{784111777});
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == std::time_t{784111777});
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  CHECK_FALSE(parse_http_date("yesterday"));
  CHECK_FALSE(parse_http_date("Sun, 32 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date(""));
}

namespace {
ConditionalOutcome conditions(std::string_view method, HeaderList headers,
                              std::optional<std::time_t> mtime = 784111777) {
  return evaluate_conditions(method, headers, mtime);
}
} // namespace

TEST_CASE("static conditions: If-Modified-Since", "[static]") {
  const std::string same = "Sun, 06 Nov 1994 08:49:37 GMT";
  const std::string earlier = "Sun, 06 Nov 1994 08:49:36 GMT";
  CHECK(conditions("GET", {{"If-Modified-Since", same}}).precondition ==
        Precondition::not_modified);
  CHECK(conditions("HEAD", {{"if-modified-since", same}}).precondition ==
        Precondition::not_modified);
  CHECK(conditions("GET", {{"If-Modified-Since", earlier}}).precondition == Precondition::proceed);
  // Only GET and HEAD, only with a meaningful time, only with a valid date.
  CHECK(conditions("POST", {{"If-Modified-Since", same}}).precondition == Precondition::proceed);
  CHECK(conditions("GET", {{"If-Modified-Since", same}}, std::nullopt).precondition ==
        Precondition::proceed);
  CHECK(conditions("GET", {{"If-Modified-Since", "garbage"}}).precondition ==
        Precondition::proceed);
  // If-None-Match takes precedence, and with no ETag only `*` can match.
  CHECK(conditions("GET", {{"If-None-Match", "\"x\""}, {"If-Modified-Since", same}}).precondition ==
        Precondition::proceed);
  CHECK(not_modified_since("GET", {{"If-Modified-Since", same}}, 784111777));
  CHECK_FALSE(not_modified_since("GET", {{"If-Modified-Since", earlier}}, 784111777));
}

TEST_CASE("static conditions: If-None-Match, If-Match, If-Unmodified-Since, If-Range", "[static]") {
  CHECK(conditions("GET", {{"If-None-Match", "*"}}).precondition == Precondition::not_modified);
  CHECK(conditions("POST", {{"If-None-Match", "*"}}).precondition == Precondition::failed);
  CHECK(conditions("GET", {{"If-Match", "\"abc\""}}).precondition == Precondition::failed);
  CHECK(conditions("GET", {{"If-Match", "\"abc\", *"}}).precondition == Precondition::proceed);
  CHECK(
      conditions("GET", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).precondition ==
      Precondition::failed);
  CHECK(
      conditions("GET", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).precondition ==
      Precondition::proceed);

  HeaderList ranged{{"Range", "bytes=0-1"}, {"If-Range", "Sun, 06 Nov 1994 08:49:37 GMT"}};
  CHECK(conditions("GET", ranged).range_allowed);
  ranged[1].value = "Sun, 06 Nov 1994 08:49:38 GMT";
  CHECK_FALSE(conditions("GET", ranged).range_allowed);
  ranged[1].value = "\"etag\"";
  CHECK_FALSE(conditions("GET", ranged).range_allowed);
}

TEST_CASE("static listing: sorted, directories marked, names escaped", "[static]") {
  std::string page = render_listing({{"zeta.txt", false},
                                     {"a dir", true},
                                     {"<b>&\"'.txt", false},
                                     {"x:y", false},
                                     {"100%.txt", false}});
  CHECK(page == "<pre>\n"
                "<a href=\"100%25.txt\">100%.txt</a>\n"
                "<a href=\"%3Cb%3E&%22%27.txt\">&lt;b&gt;&amp;&#34;&#39;.txt</a>\n"
                "<a href=\"a%20dir/\">a dir/</a>\n"
                "<a href=\"./x:y\">x:y</a>\n"
                "<a href=\"zeta.txt\">zeta.txt</a>\n"
                "</pre>\n");
  CHECK(render_listing({}) == "<pre>\n</pre>\n");
}
