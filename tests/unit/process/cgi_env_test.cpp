// The CGI environment of forked functions (docs/streaming.md;
// docs/decisions.md, cgi-reserved-variables).
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "process/cgi_env.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::process;

namespace {

Request make_request() {
  Request r;
  r.method = "POST";
  r.target = "/a%20b/c%2Fd?q=1&r=%20x";
  r.path = "/a b/c/d";
  r.raw_query = "q=1&r=%20x";
  r.headers = {{"Host", "example.com:8080"}, {"Content-Length", "5"}};
  r.content_length = 5;
  return r;
}

std::vector<std::string> values_of(const std::vector<std::string>& env, const std::string& name) {
  std::vector<std::string> out;
  for (const std::string& e : env) {
    if (e.rfind(name + "=", 0) == 0)
      out.push_back(e.substr(name.size() + 1));
  }
  return out;
}

std::optional<std::string> value_of(const std::vector<std::string>& env, const std::string& name) {
  auto values = values_of(env, name);
  REQUIRE(values.size() <= 1); // every name appears at most once
  if (values.empty())
    return std::nullopt;
  return values[0];
}

} // namespace

TEST_CASE("header names are canonicalised as Go does", "[cgi_env]") {
  CHECK(canonical_header_name("x-lower-case") == "X-Lower-Case");
  CHECK(canonical_header_name("CONTENT-TYPE") == "Content-Type");
  CHECK(canonical_header_name("X_foo") == "X_foo");
  CHECK(canonical_header_name("x_FOO") == "X_foo");
  CHECK(canonical_header_name("a b") == "a b"); // not a token: left alone
  CHECK(cgi_variable_name("x-lower-case") == "Http_X_Lower_Case");
  CHECK(cgi_variable_name("Content-Type") == "Http_Content_Type");
}

TEST_CASE("the base environment comes first and is kept", "[cgi_env]") {
  Request r = make_request();
  auto env = build_cgi_environment({"PATH=/usr/bin", "fprocess=cat", "mode=streaming"}, r);
  REQUIRE(env.size() >= 3);
  CHECK(env[0] == "PATH=/usr/bin");
  CHECK(env[1] == "fprocess=cat");
  CHECK(env[2] == "mode=streaming");
}

TEST_CASE("request line variables", "[cgi_env]") {
  Request r = make_request();
  auto env = build_cgi_environment({}, r);
  CHECK(value_of(env, "Http_Method") == "POST");
  CHECK(value_of(env, "Http_Query") == "q=1&r=%20x");
  CHECK(value_of(env, "Http_Path") == "/a b/c/d");
  CHECK(value_of(env, "Http_Content_Length") == "5");
  CHECK_FALSE(value_of(env, "Http_ContentLength"));
  CHECK_FALSE(value_of(env, "Http_Transfer_Encoding"));
}

TEST_CASE("Http_Query only with a non-empty query; Http_Path only when non-empty", "[cgi_env]") {
  Request r = make_request();
  r.raw_query.clear();
  r.path.clear();
  auto env = build_cgi_environment({}, r);
  CHECK_FALSE(value_of(env, "Http_Query"));
  CHECK_FALSE(value_of(env, "Http_Path"));
  CHECK(value_of(env, "Http_Method") == "POST");
}

TEST_CASE("Host becomes Http_Host, never a header-derived variable twice", "[cgi_env]") {
  Request r = make_request();
  auto env = build_cgi_environment({}, r);
  CHECK(value_of(env, "Http_Host") == "example.com:8080");

  r.headers = {};
  env = build_cgi_environment({}, r);
  CHECK_FALSE(value_of(env, "Http_Host"));
}

TEST_CASE("chunked requests get Http_Transfer_Encoding and no Content-Length", "[cgi_env]") {
  Request r = make_request();
  r.headers = {{"Host", "h"}, {"Transfer-Encoding", "chunked"}};
  r.content_length.reset();
  r.chunked = true;
  auto env = build_cgi_environment({}, r);
  CHECK(value_of(env, "Http_Transfer_Encoding") == "chunked");
  CHECK_FALSE(value_of(env, "Http_Content_Length"));
}

TEST_CASE("repeated headers contribute their first value", "[cgi_env]") {
  Request r = make_request();
  r.headers.push_back({"X-Multi", "first"});
  r.headers.push_back({"x-multi", "second"});
  r.headers.push_back({"X-MULTI", "third"});
  auto env = build_cgi_environment({}, r);
  CHECK(values_of(env, "Http_X_Multi") == std::vector<std::string>{"first"});
}

TEST_CASE("every other header passes through", "[cgi_env]") {
  Request r = make_request();
  r.headers.push_back({"Connection", "keep-alive"});
  r.headers.push_back({"Accept-Encoding", "gzip"});
  r.headers.push_back({"Authorization", "Bearer x"});
  r.headers.push_back({"x-lower-case", "1"});
  r.headers.push_back({"X_foo", "u"});
  auto env = build_cgi_environment({}, r);
  CHECK(value_of(env, "Http_Connection") == "keep-alive");
  CHECK(value_of(env, "Http_Accept_Encoding") == "gzip");
  CHECK(value_of(env, "Http_Authorization") == "Bearer x");
  CHECK(value_of(env, "Http_X_Lower_Case") == "1");
  CHECK(value_of(env, "Http_X_foo") == "u");
}

TEST_CASE("headers cannot inject the watchdog's own variables (C8)", "[cgi_env]") {
  Request r = make_request();
  r.raw_query.clear(); // the original let `Query: x` through when the URL had no query
  r.headers.push_back({"Method", "DELETE"});
  r.headers.push_back({"Path", "/etc/passwd"});
  r.headers.push_back({"Query", "admin=1"});
  r.headers.push_back({"Transfer-Encoding", "chunked"});
  r.headers.push_back({"Http-Method", "PUT"});
  r.headers.push_back({"host", "second-host"});
  auto env = build_cgi_environment({}, r);
  CHECK(value_of(env, "Http_Method") == "POST");
  CHECK(value_of(env, "Http_Path") == "/a b/c/d");
  CHECK_FALSE(value_of(env, "Http_Query"));
  CHECK_FALSE(value_of(env, "Http_Transfer_Encoding"));
  CHECK(value_of(env, "Http_Http_Method") == "PUT"); // harmless: a different name
  CHECK(value_of(env, "Http_Host") == "example.com:8080");
}

TEST_CASE("a base entry with the same name is overridden by the last one", "[cgi_env]") {
  Request r = make_request();
  auto env = build_cgi_environment({"Http_Method=GET", "A=1", "A=2"}, r);
  CHECK(value_of(env, "Http_Method") == "POST");
  CHECK(value_of(env, "A") == "2");
}

TEST_CASE("dedupe keeps the order of the last occurrences", "[cgi_env]") {
  CHECK(dedupe_environment({"A=1", "B=1", "A=2", "C=1", "B=2"}) ==
        std::vector<std::string>{"A=2", "C=1", "B=2"});
  CHECK(dedupe_environment({"NOEQUALS", "X=1", "NOEQUALS"}) ==
        std::vector<std::string>{"X=1", "NOEQUALS"});
}
