// The C ABI's calls on a request: every bad call returns an error and sends nothing.
#include <catch2/catch.hpp>

#include <cstring>

#include "capi/c_boundary.hpp"
#include "fake_streaming_call.hpp"
#include "ofwatchdog/ofwatchdog.h"

using namespace ofwatchdog;
using ofwatchdog::testing::fake_request;
using ofwatchdog::testing::FakeStreamingCall;

namespace {

ofw_header header(const char* name, const char* value) {
  return {{name, std::strlen(name)}, {value, std::strlen(value)}};
}

} // namespace

TEST_CASE("the C ABI reports its version") {
  CHECK(ofw_abi_version() == OFW_ABI_VERSION);
  CHECK(std::strlen(ofw_version()) > 0);
  CHECK(std::string(ofw_result_text(OFW_ESTATE)) == "not allowed now");
}

TEST_CASE("NULL handles and pointers are refused") {
  FakeStreamingCall fake(fake_request("GET", "/"));
  ofw_call call(fake);
  ofw_str out;
  char buffer[8];
  CHECK(ofw_call_method(nullptr, &out) == OFW_EINVAL);
  CHECK(ofw_call_method(&call, nullptr) == OFW_EINVAL);
  CHECK(ofw_call_header(&call, nullptr, 3, &out) == OFW_EINVAL);
  CHECK(ofw_call_read(nullptr, buffer, sizeof buffer) == OFW_EINVAL);
  CHECK(ofw_call_read(&call, nullptr, sizeof buffer) == OFW_EINVAL);
  CHECK(ofw_call_read(&call, buffer, 0) == OFW_EINVAL);
  CHECK(ofw_call_write(&call, nullptr, 3) == OFW_EINVAL);
  CHECK(ofw_call_send_head(&call, 200, nullptr, 1, -1) == OFW_EINVAL);
  CHECK(ofw_call_respond(&call, 200, nullptr, 0, nullptr, 2) == OFW_EINVAL);
  CHECK(ofw_call_fail(&call, nullptr, 3) == OFW_EINVAL);
  CHECK(ofw_server_set_handler(nullptr, nullptr, nullptr) == OFW_EINVAL);
  CHECK(ofw_server_run(nullptr) == OFW_EINVAL);
  CHECK(ofw_server_new(nullptr, 2, nullptr) == OFW_EINVAL);
  ofw_server_free(nullptr);
  CHECK_FALSE(fake.status);
  CHECK_FALSE(fake.failed);
}

TEST_CASE("a bad status or header is refused and nothing is sent") {
  FakeStreamingCall fake(fake_request("GET", "/"));
  ofw_call call(fake);
  ofw_header crlf = header("X-A", "b\r\nX-Injected: 1");
  ofw_header space = header("X A", "b");
  ofw_header length = header("Content-Length", "5");
  CHECK(ofw_call_send_head(&call, 99, nullptr, 0, -1) == OFW_EINVAL);
  CHECK(ofw_call_send_head(&call, 600, nullptr, 0, -1) == OFW_EINVAL);
  CHECK(ofw_call_send_head(&call, 200, &crlf, 1, -1) == OFW_EINVAL);
  CHECK(ofw_call_send_head(&call, 200, &space, 1, -1) == OFW_EINVAL);
  CHECK(ofw_call_send_head(&call, 200, &length, 1, -1) == OFW_EINVAL);
  ofw_header null_value{{"X-A", 3}, {nullptr, 4}};
  CHECK(ofw_call_send_head(&call, 200, &null_value, 1, -1) == OFW_EINVAL);
  CHECK_FALSE(fake.status);
  // A good head still goes out afterwards.
  ofw_header good = header("Content-Type", "text/plain");
  CHECK(ofw_call_send_head(&call, 404, &good, 1, 2) == OFW_OK);
  CHECK(fake.status == 404);
  CHECK(fake.content_length == 2u);
}

TEST_CASE("a head after the head or after the body began is refused") {
  FakeStreamingCall fake(fake_request("GET", "/"));
  ofw_call call(fake);
  CHECK(ofw_call_write(&call, "ab", 2) == OFW_OK);
  CHECK(fake.status == 200);
  CHECK(ofw_call_send_head(&call, 404, nullptr, 0, -1) == OFW_ESTATE);
  CHECK(ofw_call_respond(&call, 404, nullptr, 0, "x", 1) == OFW_ESTATE);
  CHECK(fake.status == 200);
  CHECK(fake.written == "ab");
}

TEST_CASE("reads, headers and writes of a call") {
  FakeStreamingCall fake(fake_request("POST", "/p", {{"X-Call-Id", "c1"}, {"X-B", "2"}}),
                         "hello world");
  ofw_call call(fake);
  ofw_str out;
  REQUIRE(ofw_call_path(&call, &out) == OFW_OK);
  CHECK(std::string(out.data, out.size) == "/p");
  REQUIRE(ofw_call_header(&call, "x-b", 3, &out) == OFW_OK);
  CHECK(std::string(out.data, out.size) == "2");
  CHECK(ofw_call_header(&call, "X-C", 3, &out) == OFW_ENOTFOUND);
  CHECK(ofw_call_header_count(&call) == 2);
  ofw_header h;
  CHECK(ofw_call_header_at(&call, 2, &h) == OFW_EINVAL);
  REQUIRE(ofw_call_header_at(&call, 1, &h) == OFW_OK);
  CHECK(std::string(h.name.data, h.name.size) == "X-B");
  CHECK(ofw_call_time_left_ms(&call) == -1);
  CHECK(ofw_call_stopped(&call) == 0);

  char buffer[4];
  std::string body;
  long long n;
  while ((n = ofw_call_read(&call, buffer, sizeof buffer)) > 0)
    body.append(buffer, static_cast<std::size_t>(n));
  CHECK(n == 0);
  CHECK(body == "hello world");
  CHECK(ofw_call_respond(&call, 200, nullptr, 0, body.data(), body.size()) == OFW_OK);
  CHECK(fake.written == "hello world");

  fake.stop.request_stop();
  CHECK(ofw_call_stopped(&call) == 1);
  CHECK(ofw_call_write(&call, "x", 1) == OFW_ECANCELLED);
  CHECK(ofw_call_read(&call, buffer, sizeof buffer) == OFW_ECANCELLED);
}

TEST_CASE("a server from a bad environment is refused naming the variable") {
  ofw_str entries[] = {{"port=notaport", 13}};
  ofw_server* server = reinterpret_cast<ofw_server*>(1);
  CHECK(ofw_server_new(entries, 1, &server) == OFW_ECONFIG);
  CHECK(server == nullptr);
  ofw_str ok[] = {{"port=0", 6}};
  REQUIRE(ofw_server_new(ok, 1, &server) == OFW_OK);
  CHECK(ofw_server_run(server) == OFW_EINVAL); // no handler
  CHECK(ofw_server_set_threads(server, 5000, -1) == OFW_EINVAL);
  CHECK(ofw_server_set_threads(server, 2, 8) == OFW_OK);
  ofw_server_free(server);
}
