#include <catch2/catch.hpp>

#include "util/strings.hpp"

using namespace ofwatchdog;

TEST_CASE("ASCII case-insensitive equality and search", "[util]") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("Content-Length", "Content-Lengt"));
  // Only ASCII letters fold: '@' and '`' differ by the same bit as 'A' and 'a'.
  CHECK_FALSE(iequals("@", "`"));
  CHECK_FALSE(iequals("[", "{"));
  CHECK(icontains("Text/Event-Stream; charset=utf-8", "text/event-stream"));
  CHECK(icontains("application/json, APPLICATION/X-NDJSON", "application/x-ndjson"));
  CHECK(icontains("abc", ""));
  CHECK(icontains("xxtext", "TEXT"));
  CHECK_FALSE(icontains("text/event-strea", "text/event-stream"));
  CHECK_FALSE(icontains("", "a"));
  CHECK_FALSE(icontains("application/octet-stream", "text/event-stream"));
}
