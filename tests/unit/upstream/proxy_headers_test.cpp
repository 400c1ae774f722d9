#include <catch2/catch.hpp>

#include <string>

#include "upstream/proxy_headers.hpp"

using namespace ofwatchdog;
using namespace ofwatchdog::upstream;

namespace {
Request make_request(HeaderList headers) {
  Request r;
  r.method = "POST";
  r.target = "/fn?x=1";
  r.headers = std::move(headers);
  r.remote_address = "10.1.2.3:5555";
  return r;
}
bool has_line(const std::string& head, const std::string& line) {
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}
} // namespace

TEST_CASE("hop-by-hop headers are dropped, including those Connection names") {
  HeaderList in = {{"Connection", "keep-alive, X-Private"},
                   {"X-Private", "1"},
                   {"Keep-Alive", "timeout=5"},
                   {"TE", "gzip, trailers"},
                   {"Upgrade", "h2c"},
                   {"Proxy-Authorization", "x"},
                   {"X-Kept", "yes"}};
  HeaderList out = strip_hop_by_hop(in, false, true);
  REQUIRE(out.size() == 2);
  CHECK(out[0].name == "TE");
  CHECK(out[0].value == "trailers");
  CHECK(out[1].name == "X-Kept");
  CHECK(strip_hop_by_hop(in, false, false).size() == 1);
}

TEST_CASE("request head: framing, Host and X-Forwarded-*") {
  auto url = *parse_upstream_url("http://127.0.0.1:5000");
  Request r = make_request({{"Host", "fn.example"},
                            {"Content-Length", "5"},
                            {"X-Forwarded-For", "1.1.1.1"},
                            {"Expect", "100-continue"},
                            {"Accept-Encoding", "br"}});
  std::string head = build_request_head(r, url, {BodyFraming::Kind::length, 5});
  CHECK(head.rfind("POST /fn?x=1 HTTP/1.1\r\nHost: fn.example\r\n", 0) == 0);
  CHECK(has_line(head, "Content-Length: 5"));
  CHECK(has_line(head, "X-Forwarded-For: 1.1.1.1, 10.1.2.3"));
  CHECK(has_line(head, "X-Forwarded-Host: fn.example"));
  CHECK(has_line(head, "X-Forwarded-Proto: http"));
  CHECK(has_line(head, "Accept-Encoding: br"));
  CHECK(head.find("Expect") == std::string::npos);
  CHECK(head.size() >= 4);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");

  Request chunked = make_request({{"Transfer-Encoding", "chunked"}});
  std::string c = build_request_head(chunked, url, {BodyFraming::Kind::chunked, 0});
  CHECK(has_line(c, "Host: 127.0.0.1:5000"));
  CHECK(has_line(c, "Transfer-Encoding: chunked"));
  CHECK(c.find("X-Forwarded-Host") == std::string::npos);

  Request empty_post = make_request({});
  CHECK(has_line(build_request_head(empty_post, url, {}), "Content-Length: 0"));
}

TEST_CASE("request head: Expect: 100-continue only when the body waits for the upstream") {
  auto url = *parse_upstream_url("http://127.0.0.1:5000");
  Request r = make_request({{"Expect", "100-CONTINUE"}, {"Content-Length", "5"}});
  BodyFraming waits{BodyFraming::Kind::length, 5, true};
  std::string head = build_request_head(r, url, waits);
  CHECK(has_line(head, "Expect: 100-continue"));
  CHECK(head.find("100-CONTINUE") == std::string::npos);
  // No body, nothing to wait for.
  CHECK(build_request_head(r, url, {BodyFraming::Kind::none, 0, true}).find("Expect") ==
        std::string::npos);
}

TEST_CASE("request head: an upgrade keeps Upgrade and says Connection: Upgrade") {
  auto url = *parse_upstream_url("http://127.0.0.1:5000");
  Request r = make_request({{"Connection", "Upgrade"}, {"Upgrade", "websocket"}});
  r.method = "GET";
  std::string head = build_request_head(r, url, {});
  CHECK(has_line(head, "Upgrade: websocket"));
  CHECK(has_line(head, "Connection: Upgrade"));
}

TEST_CASE("response headers for the client") {
  HeaderList up = {{"Content-Length", "3"},
                   {"Keep-Alive", "timeout=5"},
                   {"Connection", "close"},
                   {"Content-Encoding", "gzip"},
                   {"Transfer-Encoding", "chunked"}};
  HeaderList out = response_headers_for_client(up, false);
  REQUIRE(out.size() == 1);
  CHECK(out[0].name == "Content-Encoding");
  HeaderList tunnel = response_headers_for_client({{"Upgrade", "websocket"}}, true);
  REQUIRE(tunnel.size() == 2);
  CHECK(tunnel[1].value == "Upgrade");
}

TEST_CASE("response headers: long lists and long Connection lists are filtered alike") {
  // Past 64 headers the verdicts leave their word; past four names Connection's list leaves
  // its place in the rules. Either way the same headers go.
  HeaderList up = {{"Connection", "A-1, A-2, A-3, A-4, A-5, A-6"}};
  for (int i = 0; i < 80; ++i)
    up.push_back({"X-N" + std::to_string(i), std::to_string(i)});
  for (int i = 1; i <= 6; ++i)
    up.push_back({"A-" + std::to_string(i), "named"});
  up.push_back({"Keep-Alive", "timeout=5"});
  up.push_back({"X-Last", "kept"});
  HeaderList out = response_headers_for_client(up, false);
  REQUIRE(out.size() == 81);
  for (int i = 0; i < 80; ++i)
    CHECK(out[static_cast<std::size_t>(i)].value == std::to_string(i));
  CHECK(out[80].name == "X-Last");
  HeaderList few(up.begin(), up.begin() + 3);
  few.push_back({"A-5", "named"});
  few.push_back({"A-6", "named"});
  few.push_back({"X-Last", "kept"});
  HeaderList few_out = response_headers_for_client(few, false);
  REQUIRE(few_out.size() == 3);
  CHECK(few_out[2].name == "X-Last");
}

TEST_CASE("client ip") {
  CHECK(client_ip("1.2.3.4:5678") == "1.2.3.4");
  CHECK(client_ip("[::1]:5678") == "::1");
  CHECK(client_ip("::1") == "::1");
}
