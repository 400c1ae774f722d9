#include <catch2/catch.hpp>

#include <string>

#include "util/field_syntax.hpp"

using namespace ofwatchdog;

namespace {
// The rules byte by byte, written the plain way, against which the fast checks are judged.
bool value_byte_ok(unsigned char b) {
  return !((b < 0x20 && b != '\t') || b == 0x7f);
}
} // namespace

TEST_CASE("field values: every byte at every place of short and long values", "[util]") {
  // The check runs in vector-wide steps with a byte-wise tail: lengths from 1 to 70 put each
  // byte both in a step and in the tail.
  for (std::size_t length = 1; length <= 70; length += 3) {
    for (std::size_t at = 0; at < length; at += 5) {
      for (unsigned b = 0; b < 256; ++b) {
        std::string value(length, 'a');
        value[at] = static_cast<char>(b);
        INFO("length " << length << ", byte " << b << " at " << at);
        REQUIRE(valid_field_value(value) == value_byte_ok(static_cast<unsigned char>(b)));
      }
    }
  }
  CHECK(valid_field_value(""));
  CHECK(valid_field_value("text/plain; charset=utf-8\t"));
  CHECK(valid_field_value("caf\xc3\xa9"));
}

TEST_CASE("field names: tokens only, and never empty", "[util]") {
  CHECK(valid_field_name("X-Custom_Header.1~"));
  CHECK_FALSE(valid_field_name(""));
  CHECK_FALSE(valid_field_name("Bad Name"));
  CHECK_FALSE(valid_field_name("Bad:Name"));
  CHECK_FALSE(valid_field_name(std::string("Nul\0", 4)));
  for (unsigned b = 0; b < 256; ++b) {
    std::string name = "Name" + std::string(1, static_cast<char>(b)) + "Tail";
    CHECK(valid_field_name(name) == token_char_rule(static_cast<unsigned char>(b)));
  }
}
