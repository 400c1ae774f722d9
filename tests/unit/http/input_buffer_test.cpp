// A connection's input buffer: bytes come out in the order they were appended, however reads and
// consumption interleave, and the consumed front is dropped without losing what follows it.
#include <catch2/catch.hpp>

#include <string>

#include "http/input_buffer.hpp"

using ofwatchdog::http::InputBuffer;

TEST_CASE("the input buffer hands out what was appended, in order", "[http][input]") {
  InputBuffer in;
  CHECK(in.empty());
  in.append("GET / HTTP/1.1\r\n", 16);
  in.append("\r\n", 2);
  CHECK(in.size() == 18);
  CHECK(in.front(3) == "GET");
  in.consume(4);
  CHECK(std::string(in.data(), in.size()) == "/ HTTP/1.1\r\n\r\n");
  CHECK(in.front(100).size() == in.size());
  in.consume(in.size());
  CHECK(in.empty());
}

TEST_CASE("dropping the consumed front keeps the unconsumed bytes", "[http][input]") {
  InputBuffer in;
  std::string expected;
  for (int round = 0; round < 50; ++round) {
    std::string piece(static_cast<std::size_t>(round * 7 + 1), static_cast<char>('a' + round % 26));
    in.append(piece.data(), piece.size());
    expected += piece;
    // Consume a bit more than half of what is there, so both compactions happen.
    std::size_t take = in.size() / 2 + 1;
    CHECK(in.front(take) == std::string_view(expected).substr(0, take));
    in.consume(take);
    expected.erase(0, take);
    CHECK(std::string(in.data(), in.size()) == expected);
  }
  in.clear();
  CHECK(in.empty());
  CHECK(in.size() == 0);
}
