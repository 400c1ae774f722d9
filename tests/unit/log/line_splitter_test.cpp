// The line splitter for relayed function output (docs/decisions.md,
// long-log-lines and final-partial-line).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "log/line_splitter.hpp"

using ofwatchdog::LineSplitter;

namespace {

struct Collected {
  std::vector<std::string> lines;
  int overflows = 0;
};

LineSplitter make(std::int64_t max_line, Collected& out) {
  return LineSplitter(
      max_line, [&out](std::string_view line) { out.lines.emplace_back(line); },
      [&out] { ++out.overflows; });
}

} // namespace

TEST_CASE("lines end at LF and a CR before the LF is dropped", "[line_splitter]") {
  Collected c;
  auto s = make(65536, c);
  s.feed("one\ntwo\r\nthree\r\r\n\n\r\n");
  CHECK(c.lines == std::vector<std::string>{"one", "two", "three\r", "", ""});
  CHECK(c.overflows == 0);
  CHECK(s.pending_bytes() == 0);
}

TEST_CASE("a lone CR is part of the line", "[line_splitter]") {
  Collected c;
  auto s = make(100, c);
  s.feed("a\rb\n");
  CHECK(c.lines == std::vector<std::string>{"a\rb"});
}

TEST_CASE("a line split across many feeds is emitted once", "[line_splitter]") {
  Collected c;
  auto s = make(65536, c);
  std::string text = "hello world\nsecond line\r\n";
  for (char ch : text)
    s.feed(std::string_view(&ch, 1));
  CHECK(c.lines == std::vector<std::string>{"hello world", "second line"});
}

TEST_CASE("CRLF split between two feeds still drops the CR", "[line_splitter]") {
  Collected c;
  auto s = make(65536, c);
  s.feed("abc\r");
  s.feed("\nxyz");
  s.feed("\r");
  s.finish();
  CHECK(c.lines == std::vector<std::string>{"abc", "xyz"});
}

TEST_CASE("the final partial line is emitted at EOF", "[line_splitter]") {
  Collected c;
  auto s = make(65536, c);
  s.feed("complete\nno trailing newline");
  CHECK(c.lines == std::vector<std::string>{"complete"});
  s.finish();
  CHECK(c.lines == std::vector<std::string>{"complete", "no trailing newline"});
  s.finish(); // nothing pending: nothing more
  CHECK(c.lines.size() == 2);
}

TEST_CASE("EOF right after a newline adds no empty line", "[line_splitter]") {
  Collected c;
  auto s = make(65536, c);
  s.feed("x\n");
  s.finish();
  CHECK(c.lines == std::vector<std::string>{"x"});
}

TEST_CASE("a line up to the limit is whole; longer lines are cut into pieces of the limit",
          "[line_splitter]") {
  Collected c;
  auto s = make(4, c);
  s.feed("abcd\n");
  CHECK(c.lines == std::vector<std::string>{"abcd"});
  CHECK(c.overflows == 0);
  s.feed("abcdefghij\n");
  CHECK(c.lines == std::vector<std::string>{"abcd", "abcd", "efgh", "ij"});
  CHECK(c.overflows == 1);
  s.feed("0123456789abcdef\n");
  CHECK(c.lines.back() == "cdef");
  CHECK(c.overflows == 1); // the warning is given once per stream
}

TEST_CASE("an over-long line arriving in small feeds is bounded in memory", "[line_splitter]") {
  Collected c;
  auto s = make(1000, c);
  std::string chunk(100, 'a');
  for (int i = 0; i < 1000; ++i) {
    s.feed(chunk);
    REQUIRE(s.pending_bytes() <= 1001);
  }
  s.feed("\n");
  REQUIRE(c.lines.size() == 100);
  for (const std::string& line : c.lines)
    CHECK(line == std::string(1000, 'a'));
  CHECK(c.overflows == 1);
}

TEST_CASE("a CR at a piece boundary waits to see whether an LF follows", "[line_splitter]") {
  Collected c;
  auto s = make(4, c);
  s.feed("abcd\r");
  CHECK(c.lines.empty());
  s.feed("\n");
  CHECK(c.lines == std::vector<std::string>{"abcd"});
  CHECK(c.overflows == 0);

  s.feed("wxyz\r");
  s.feed("q\n");
  CHECK(c.lines == std::vector<std::string>{"abcd", "wxyz", "\rq"});
  CHECK(c.overflows == 1);
}

TEST_CASE("an over-long final partial line is split at EOF too", "[line_splitter]") {
  Collected c;
  auto s = make(3, c);
  s.feed("abcdefg");
  s.finish();
  CHECK(c.lines == std::vector<std::string>{"abc", "def", "g"});
}

TEST_CASE("a negative limit means unlimited", "[line_splitter]") {
  Collected c;
  auto s = make(-1, c);
  std::string big(300000, 'z');
  s.feed(big.substr(0, 100000));
  s.feed(big.substr(100000));
  s.feed("\r\nend");
  s.finish();
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0] == big);
  CHECK(c.lines[1] == "end");
  CHECK(c.overflows == 0);
}

TEST_CASE("a zero limit drains and discards everything, warning once", "[line_splitter]") {
  Collected c;
  auto s = make(0, c);
  s.feed("");
  CHECK(c.overflows == 0);
  s.feed("line\n\nmore");
  s.feed("x\n");
  s.finish();
  CHECK(c.lines.empty());
  CHECK(c.overflows == 1);
  CHECK(s.pending_bytes() == 0);
}

TEST_CASE("empty lines are emitted", "[line_splitter]") {
  Collected c;
  auto s = make(10, c);
  s.feed("\n\r\n");
  CHECK(c.lines == std::vector<std::string>{"", ""});
}
