// The integer and boolean parsers and the upstream URL check (lib/config/values.hpp; Go's
// ParseBool is declared in ofwatchdog/config.hpp).
#include <catch2/catch.hpp>

#include "config/values.hpp"
#include "ofwatchdog/config.hpp"

using namespace ofwatchdog::config;
using ofwatchdog::parse_go_bool;

TEST_CASE("parse_atoi reads Go's strconv.Atoi syntax", "[config][values]") {
  CHECK(parse_atoi("0").value == 0);
  CHECK(parse_atoi("42").value == 42);
  CHECK(parse_atoi("+42").value == 42);
  CHECK(parse_atoi("-42").value == -42);
  CHECK(parse_atoi("-0").value == 0);
  CHECK(parse_atoi("0010").value == 10);
  CHECK(parse_atoi("9223372036854775807").value == INT64_MAX);
  CHECK(parse_atoi("-9223372036854775808").value == INT64_MIN);
  for (const char* bad : {"", "+", "-", " 1", "1 ", "1_000", "0x10", "1.0", "1e3", "abc", "--1"}) {
    INFO(bad);
    CHECK(parse_atoi(bad).error == IntError::syntax);
  }
}

TEST_CASE("parse_atoi tells an overflow from junk", "[config][values]") {
  CHECK(parse_atoi("9223372036854775808").error == IntError::range);
  CHECK(parse_atoi("-9223372036854775809").error == IntError::range);
  CHECK(parse_atoi("99999999999999999999").error == IntError::range);
  // Go reports an overflow of uint64 at the digit where it happens, before later junk...
  CHECK(parse_atoi("99999999999999999999x").error == IntError::range);
  // ...but junk within the uint64 range is a syntax error.
  CHECK(parse_atoi("9300000000000000000x").error == IntError::syntax);
  CHECK_FALSE(parse_go_int("9223372036854775808"));
  CHECK(parse_go_int("7") == 7);
}

TEST_CASE("strict booleans accept only true and 1", "[config][values]") {
  CHECK(parse_strict_bool("true"));
  CHECK(parse_strict_bool("1"));
  for (const char* no : {"", "True", "TRUE", "t", "yes", "on", "false", "0", " true", "true "}) {
    INFO(no);
    CHECK_FALSE(parse_strict_bool(no));
  }
}

TEST_CASE("parse_go_bool follows strconv.ParseBool", "[config][values]") {
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"})
    CHECK(parse_go_bool(yes) == true);
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"})
    CHECK(parse_go_bool(no) == false);
  for (const char* bad : {"", "tRUE", "yes", "no", "2", " true", "on"})
    CHECK_FALSE(parse_go_bool(bad));
}

TEST_CASE("upstream_url_problem accepts http://host[:port][/path]", "[config][values]") {
  for (const char* ok : {"http://127.0.0.1:5000", "http://localhost", "http://localhost/",
                         "http://my-host.example_1:8080/base/path", "HTTP://Host:1",
                         "http://[::1]:8080/x", "http://[::ffff:127.0.0.1]", "http://h:65535"}) {
    INFO(ok);
    CHECK_FALSE(upstream_url_problem(ok));
  }
}

TEST_CASE("upstream_url_problem explains what is wrong", "[config][values]") {
  CHECK(upstream_url_problem("https://h") ==
        "https is not supported, the upstream must be a plain http:// URL");
  CHECK(upstream_url_problem("localhost:5000") == "the URL must start with http://");
  CHECK(upstream_url_problem("127.0.0.1:5000") == "the URL must start with http://");
  CHECK(upstream_url_problem("http://") == "the host is empty");
  CHECK(upstream_url_problem("http:///x") == "the host is empty");
  CHECK(upstream_url_problem("http://:80") == "the host is empty");
  CHECK(upstream_url_problem("http://h:") == "the port after ':' is empty");
  CHECK(upstream_url_problem("http://h:0") == "the port is not a number from 1 to 65535");
  CHECK(upstream_url_problem("http://h:65536") == "the port is not a number from 1 to 65535");
  CHECK(upstream_url_problem("http://h:80x") == "the port is not a number from 1 to 65535");
  CHECK(upstream_url_problem("http://h:1:2") == "the port is not a number from 1 to 65535");
  CHECK(upstream_url_problem("http://u:p@h") == "user information (user@host) is not supported");
  CHECK(upstream_url_problem("http://h?x=1") == "a query or fragment is not allowed");
  CHECK(upstream_url_problem("http://h/p#f") == "a query or fragment is not allowed");
  CHECK(upstream_url_problem("http://h/a b") == "the path contains a space or control character");
  CHECK(upstream_url_problem("http://h o") == "the host contains an invalid character");
  CHECK(upstream_url_problem("http://[::1") == "the IPv6 address has no closing ']'");
  CHECK(upstream_url_problem("http://[zz]") == "the IPv6 address contains an invalid character");
  CHECK(upstream_url_problem("http://[::1]x") == "unexpected text after the host");
}
