// The answers the server gives itself, keep-alive and 100-continue decisions.

#include <catch2/catch.hpp>

#include "http/request_checks.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::http;

namespace {
Request make(std::string method, std::string target, HeaderList headers = {{"Host", "h"}},
             int minor = 1) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers = std::move(headers);
  r.version_minor = minor;
  return r;
}
} // namespace

TEST_CASE("clean requests pass with path and query filled in", "[http][checks]") {
  Request r = make("GET", "/a%20b?x=%41");
  CHECK_FALSE(check_request(r));
  CHECK(r.path == "/a b");
  CHECK(r.raw_query == "x=%41");
}

TEST_CASE("protocol errors are raw answers", "[http][checks]") {
  Request bad = make("GET", "/a%zz");
  auto a = check_request(bad);
  REQUIRE(a);
  CHECK(a->raw);
  CHECK(a->raw_text == "400 Bad Request");

  Request no_host = make("GET", "/", {});
  a = check_request(no_host);
  REQUIRE(a);
  CHECK(a->raw_text == "400 Bad Request: missing required Host header");

  Request http10 = make("GET", "/", {}, 0);
  CHECK_FALSE(check_request(http10));

  Request two_hosts = make("GET", "/", {{"Host", "a"}, {"host", "b"}});
  a = check_request(two_hosts);
  REQUIRE(a);
  CHECK(a->raw_text == "400 Bad Request: too many Host headers");

  CHECK(raw_error_response("400 Bad Request") ==
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Connection: close\r\n\r\n400 Bad Request");
}

TEST_CASE("Expect other than 100-continue is 417", "[http][checks]") {
  Request r = make("POST", "/", {{"Host", "h"}, {"Expect", "something"}});
  auto a = check_request(r);
  REQUIRE(a);
  CHECK_FALSE(a->raw);
  CHECK(a->head.status == 417);
  Request ok = make("POST", "/", {{"Host", "h"}, {"Expect", "100-Continue"}});
  ok.content_length = 3;
  CHECK_FALSE(check_request(ok));
  CHECK(expects_continue(ok));
  ok.content_length = 0;
  CHECK_FALSE(expects_continue(ok));
}

TEST_CASE("OPTIONS * is answered 200", "[http][checks]") {
  Request r = make("OPTIONS", "*");
  auto a = check_request(r);
  REQUIRE(a);
  CHECK(a->head.status == 200);
  CHECK(a->head.content_length == 0u);
}

TEST_CASE("unclean paths redirect with the raw query", "[http][checks]") {
  Request r = make("GET", "/a/../b?z=1");
  auto a = check_request(r);
  REQUIRE(a);
  CHECK(a->head.status == 301);
  CHECK(*find_header(a->head.headers, "location") == "/b?z=1");
  CHECK(*find_header(a->head.headers, "Content-Type") == "text/html; charset=utf-8");
  CHECK(a->body == "<a href=\"/b?z=1\">Moved Permanently</a>.\n\n");
  CHECK(a->head.content_length == a->body.size());

  Request post = make("POST", "//x//y");
  a = check_request(post);
  REQUIRE(a);
  CHECK(*find_header(a->head.headers, "Location") == "/x/y");
  CHECK(a->body.empty());
  CHECK_FALSE(find_header(a->head.headers, "Content-Type"));

  Request space = make("GET", "//a%20b");
  a = check_request(space);
  REQUIRE(a);
  CHECK(*find_header(a->head.headers, "Location") == "/a%20b");
}

TEST_CASE("keep-alive defaults by version", "[http][checks]") {
  CHECK(wants_keep_alive(make("GET", "/")));
  CHECK_FALSE(wants_keep_alive(make("GET", "/", {{"Host", "h"}, {"Connection", "Close"}})));
  CHECK_FALSE(wants_keep_alive(make("GET", "/", {}, 0)));
  CHECK(wants_keep_alive(make("GET", "/", {{"Connection", "foo, Keep-Alive"}}, 0)));
}

TEST_CASE("find_header is case-insensitive and cancel reasons have texts", "[http][exchange]") {
  HeaderList h{{"X-One", "1"}, {"x-one", "2"}};
  REQUIRE(find_header(h, "X-ONE"));
  CHECK(*find_header(h, "x-one") == "1");
  CHECK_FALSE(find_header(h, "X-Two"));
  CHECK(cancel_reason_text(CancelReason::read_timeout) == "read timeout");
  CHECK(cancel_reason_text(CancelReason::client_closed) == "client closed the connection");
}

TEST_CASE("CONNECT is refused before anything serves it", "[http][checks]") {
  Request r = make("CONNECT", "a.example:443", {{"Host", "a.example:443"}});
  auto a = check_request(r);
  REQUIRE(a);
  CHECK(a->raw);
  CHECK(a->raw_text == "501 Not Implemented: CONNECT is not supported");
  Request no_host = make("CONNECT", "a.example:443", {});
  a = check_request(no_host);
  REQUIRE(a);
  CHECK(a->raw_text == "501 Not Implemented: CONNECT is not supported");
}

TEST_CASE("a Host that is not host[:port] is 400", "[http][checks]") {
  for (const char* bad :
       {"a b", "a:b", "a:80:80", "a%zz", "a/b", "[::1", "[]", "[::1]x", "a\tb", "u@a", "a:8 0"}) {
    Request r = make("GET", "/", {{"Host", bad}});
    auto a = check_request(r);
    INFO(bad);
    REQUIRE(a);
    CHECK(a->raw_text == "400 Bad Request: malformed Host header");
  }
  for (const char* good : {"", "a", "a.example:8080", "127.0.0.1:80", "[::1]", "[::1]:8080",
                           "xn--bcher-kva.example", "a%41b", "a:"}) {
    Request r = make("GET", "/", {{"Host", good}});
    INFO(good);
    CHECK_FALSE(check_request(r));
  }
}

TEST_CASE("an absolute-form target wins over the Host header", "[http][checks]") {
  Request r = make("GET", "http://a.example:8080/abs?x=1", {{"Host", "h"}});
  CHECK_FALSE(check_request(r));
  CHECK(r.target == "/abs?x=1");
  CHECK(r.path == "/abs");
  CHECK(r.raw_query == "x=1");
  REQUIRE(r.header("Host"));
  CHECK(*r.header("Host") == "a.example:8080");
  CHECK(r.headers.size() == 1);

  // No Host at all is fine on HTTP/1.0, and the authority becomes it.
  Request old = make("GET", "HTTP://b.example", {}, 0);
  CHECK_FALSE(check_request(old));
  CHECK(old.target == "/");
  REQUIRE(old.header("Host"));
  CHECK(*old.header("Host") == "b.example");

  // The target's authority is checked, not the Host it replaces.
  Request bad_header = make("GET", "http://a.example/", {{"Host", "a b"}});
  CHECK_FALSE(check_request(bad_header));

  for (const char* bad :
       {"ftp://a.example/x", "http:///x", "http://u@a.example/x", "http://a b/x", "http://a:x/"}) {
    Request refused = make("GET", bad);
    INFO(bad);
    auto a = check_request(refused);
    REQUIRE(a);
    CHECK(a->raw);
    CHECK(a->raw_text.rfind("400 Bad Request", 0) == 0);
  }
}
