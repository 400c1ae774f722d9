// The exact text formats of log lines: Go durations, human sizes, %q and JSON quoting.
#include <catch2/catch.hpp>

#include <limits>

#include "log/format.hpp"

using namespace std::chrono_literals;
using ofwatchdog::Duration;
using ofwatchdog::go_duration;
using ofwatchdog::go_quote;
using ofwatchdog::human_size;
using ofwatchdog::json_quote;

TEST_CASE("go_duration prints zero as 0s", "[log][format]") {
  CHECK(go_duration(0ns) == "0s");
}

TEST_CASE("go_duration below one second uses ns, µs or ms", "[log][format]") {
  CHECK(go_duration(1ns) == "1ns");
  CHECK(go_duration(999ns) == "999ns");
  CHECK(go_duration(1000ns) == "1\u00b5s"); // U+00B5 MICRO SIGN, not the Greek mu
  CHECK(go_duration(1us) == "1\xC2\xB5s");
  CHECK(go_duration(1500ns) == "1.5\xC2\xB5s");
  CHECK(go_duration(1001ns) == "1.001\xC2\xB5s");
  CHECK(go_duration(999999ns) == "999.999\xC2\xB5s");
  CHECK(go_duration(1ms) == "1ms");
  CHECK(go_duration(1500us) == "1.5ms");
  CHECK(go_duration(500ms) == "500ms");
  CHECK(go_duration(1000001ns) == "1.000001ms");
  CHECK(go_duration(999999999ns) == "999.999999ms");
}

TEST_CASE("go_duration from one second uses h, m and s", "[log][format]") {
  CHECK(go_duration(1s) == "1s");
  CHECK(go_duration(30s) == "30s");
  CHECK(go_duration(59s) == "59s");
  CHECK(go_duration(60s) == "1m0s");
  CHECK(go_duration(90s) == "1m30s");
  CHECK(go_duration(61500ms) == "1m1.5s");
  CHECK(go_duration(1h) == "1h0m0s");
  CHECK(go_duration(2h + 45min) == "2h45m0s");
  CHECK(go_duration(100h + 1s) == "100h0m1s");
  CHECK(go_duration(1s + 1ns) == "1.000000001s");
  CHECK(go_duration(1h + 2min + 3500ms) == "1h2m3.5s");
}

TEST_CASE("go_duration prints negative values with a minus", "[log][format]") {
  CHECK(go_duration(-3s) == "-3s");
  CHECK(go_duration(-1ns) == "-1ns");
  CHECK(go_duration(-1500us) == "-1.5ms");
  CHECK(go_duration(-90s) == "-1m30s");
}

TEST_CASE("go_duration handles the int64 extremes", "[log][format]") {
  CHECK(go_duration(Duration(std::numeric_limits<std::int64_t>::max())) ==
        "2562047h47m16.854775807s");
  CHECK(go_duration(Duration(std::numeric_limits<std::int64_t>::min())) ==
        "-2562047h47m16.854775808s");
}

TEST_CASE("human_size matches the table of logging.md section 7", "[log][format]") {
  CHECK(human_size(0) == "0B");
  CHECK(human_size(11) == "11B");
  CHECK(human_size(999) == "999B");
  CHECK(human_size(1000) == "1kB");
  CHECK(human_size(1234) == "1.234kB");
  CHECK(human_size(9003) == "9.003kB");
  CHECK(human_size(999999) == "1000kB");
  CHECK(human_size(3000000) == "3MB");
  CHECK(human_size(12345678) == "12.35MB");
  CHECK(human_size(-1) == "-1B");
}

TEST_CASE("human_size covers the larger units", "[log][format]") {
  CHECK(human_size(1000000) == "1MB");
  CHECK(human_size(999499) == "999.5kB");
  CHECK(human_size(1000000000) == "1GB");
  CHECK(human_size(1500000000000) == "1.5TB");
  CHECK(human_size(std::numeric_limits<std::int64_t>::max()) == "9.223EB");
}

TEST_CASE("go_quote wraps and escapes quotes and backslashes", "[log][format]") {
  CHECK(go_quote("") == "\"\"");
  CHECK(go_quote("cat") == "\"cat\"");
  CHECK(go_quote("python3 index.py") == "\"python3 index.py\"");
  CHECK(go_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(go_quote("sh -c 'echo hi'") == "\"sh -c 'echo hi'\"");
}

TEST_CASE("go_quote escapes control characters", "[log][format]") {
  CHECK(go_quote("a\nb\tc") == "\"a\\nb\\tc\"");
  CHECK(go_quote("\a\b\f\r\v") == "\"\\a\\b\\f\\r\\v\"");
  CHECK(go_quote(std::string_view("\x00", 1)) == "\"\\x00\"");
  CHECK(go_quote("\x01\x1f") == "\"\\x01\\x1f\"");
  CHECK(go_quote("\x7f") == "\"\\x7f\"");
}

TEST_CASE("go_quote keeps printable UTF-8", "[log][format]") {
  CHECK(go_quote("h\xC3\xA9llo") == "\"h\xC3\xA9llo\"");                         // é
  CHECK(go_quote("\xE6\x97\xA5\xE6\x9C\xAC") == "\"\xE6\x97\xA5\xE6\x9C\xAC\""); // 日本
  CHECK(go_quote("\xF0\x9F\x98\x80") == "\"\xF0\x9F\x98\x80\""); // U+1F600, a symbol
  CHECK(go_quote("\xEF\xBF\xBD") == "\"\xEF\xBF\xBD\"");         // U+FFFD itself
  CHECK(go_quote("\xC2\xB5") == "\"\xC2\xB5\"");                 // µ
}

TEST_CASE("go_quote writes non-printable runes as \\u or \\U", "[log][format]") {
  CHECK(go_quote("\xC2\x85") == "\"\\u0085\"");             // NEL, a C1 control
  CHECK(go_quote("\xC2\xA0") == "\"\\u00a0\"");             // no-break space is not printable
  CHECK(go_quote("\xE2\x80\x8B") == "\"\\u200b\"");         // zero-width space (format)
  CHECK(go_quote("\xEE\x80\x80") == "\"\\ue000\"");         // private use
  CHECK(go_quote("\xF3\xB0\x80\x80") == "\"\\U000f0000\""); // supplementary private use
}

TEST_CASE("go_quote writes each invalid UTF-8 byte as \\xNN", "[log][format]") {
  CHECK(go_quote("\xff") == "\"\\xff\"");
  CHECK(go_quote("a\xC3") == "\"a\\xc3\"");                 // truncated sequence
  CHECK(go_quote("\xE2\x82") == "\"\\xe2\\x82\"");          // truncated three-byte sequence
  CHECK(go_quote("\xC0\x80") == "\"\\xc0\\x80\"");          // overlong NUL
  CHECK(go_quote("\xED\xA0\x80") == "\"\\xed\\xa0\\x80\""); // an encoded surrogate
  CHECK(go_quote("\xF4\x90\x80\x80") == "\"\\xf4\\x90\\x80\\x80\""); // beyond U+10FFFF
  CHECK(go_quote("\x80z") == "\"\\x80z\"");                          // a stray continuation byte
}

TEST_CASE("json_quote escapes what JSON requires", "[log][format]") {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_quote("a\nb\rc\td") == "\"a\\nb\\rc\\td\"");
  CHECK(json_quote("\x01") == "\"\\u0001\"");
}
