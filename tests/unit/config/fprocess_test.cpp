// Splitting fprocess: single spaces (docs/config.md, "`fprocess`") or a JSON array of strings.
#include <catch2/catch.hpp>

#include "ofwatchdog/config.hpp"

using ofwatchdog::split_fprocess;
using Argv = std::vector<std::string>;

TEST_CASE("split_fprocess splits on single spaces only", "[config][fprocess]") {
  CHECK(split_fprocess("cat") == Argv{"cat"});
  CHECK(split_fprocess("python3 index.py") == Argv{"python3", "index.py"});
  // No quoting and no shell: the quotes stay in the arguments.
  CHECK(split_fprocess("sh -c 'echo hi'") == Argv{"sh", "-c", "'echo", "hi'"});
  CHECK(split_fprocess("a  b") == Argv{"a", "", "b"});
  CHECK(split_fprocess(" a") == Argv{"", "a"});
  CHECK(split_fprocess("a ") == Argv{"a", ""});
  CHECK(split_fprocess(" ") == Argv{"", ""});
  CHECK(split_fprocess("a\tb") == Argv{"a\tb"});
  CHECK(split_fprocess("a\nb c") == Argv{"a\nb", "c"});
  CHECK(split_fprocess("") == Argv{});
  // Only a leading '[' selects JSON.
  CHECK(split_fprocess(" [\"a\"]") == Argv{"", "[\"a\"]"});
  CHECK(split_fprocess("x[1]") == Argv{"x[1]"});
}

TEST_CASE("split_fprocess reads a JSON array of strings", "[config][fprocess]") {
  CHECK(split_fprocess(R"(["cat"])") == Argv{"cat"});
  CHECK(split_fprocess(R"(["sh", "-c", "echo hi  there"])") == Argv{"sh", "-c", "echo hi  there"});
  CHECK(split_fprocess("[ \"a\" ,\t\"b\"\n] \r\n") == Argv{"a", "b"});
  CHECK(split_fprocess(R"([""])") == Argv{""});
  CHECK(split_fprocess(R"(["", "x"])") == Argv{"", "x"});
}

TEST_CASE("split_fprocess decodes JSON escapes", "[config][fprocess]") {
  CHECK(split_fprocess(R"(["a\"b", "c\\d", "e\/f"])") == Argv{"a\"b", "c\\d", "e/f"});
  CHECK(split_fprocess(R"(["\b\f\n\r\t"])") == Argv{"\b\f\n\r\t"});
  CHECK(split_fprocess(R"(["\u00e9\u00E9"])") == Argv{"\xC3\xA9\xC3\xA9"});
  CHECK(split_fprocess(R"(["\u0041\u20ac"])") == Argv{"A\xE2\x82\xAC"});
  CHECK(split_fprocess(R"(["\ud83d\ude00"])") == Argv{"\xF0\x9F\x98\x80"});
  CHECK(split_fprocess(R"(["\uDBFF\uDFFF"])") == Argv{"\xF4\x8F\xBF\xBF"});
  // Raw UTF-8 passes through.
  CHECK(split_fprocess("[\"h\xC3\xA9\"]") == Argv{"h\xC3\xA9"});
}

TEST_CASE("split_fprocess refuses malformed or empty JSON arrays", "[config][fprocess]") {
  for (const char* bad : {
           "[]",
           "[ ]",
           "[",
           "[\"a\"",
           "[\"a\",]",
           "[,\"a\"]",
           "[\"a\" \"b\"]",
           "[1]",
           "[\"a\", 2]",
           "[null]",
           "[[\"a\"]]",
           "[\"a\"] x",
           "[\"a\"],[\"b\"]",
           "[\"unterminated]",
           "[\"\\x\"]",
           "[\"\\u00\"]",
           "[\"\\u00g0\"]",
           "[\"\\u0000\"]",
           "[\"\\ud800\"]",
           "[\"\\udc00\"]",
           "[\"\\ud800\\u0041\"]",
           "[\"\\ud800x\"]",
           "[\"a\tb\"]",
           "[\"a\nb\"]",
           "[\"\\",
           "['a']",
       }) {
    INFO(bad);
    CHECK_FALSE(split_fprocess(bad));
  }
}
