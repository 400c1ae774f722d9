// The pure parts of a whole-body call: the request a function sees, and a call whose every
// failure becomes a reason for the log.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "fake_streaming_call.hpp"
#include "functions/whole_body.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::fake_request;
using ofwatchdog::testing::FakeStreamingCall;

TEST_CASE("the function sees the head's fields and the whole body") {
  Request head = fake_request("POST", "/echo", {{"X-A", "1"}});
  head.raw_query = "q=1";
  head.remote_address = "127.0.0.1:5";
  FunctionRequest request = functions::whole_request(head, std::string(200 * 1024, 'q'));
  CHECK(request.method == "POST");
  CHECK(request.path == "/echo");
  CHECK(request.raw_query == "q=1");
  CHECK(request.remote_address == "127.0.0.1:5");
  CHECK(*request.header("x-a") == "1");
  CHECK(request.body.size() == 200 * 1024);
}

TEST_CASE("an answer that passes the checks is kept") {
  FakeStreamingCall context(fake_request("GET", "/"));
  auto outcome = functions::call_function(
      [](const FunctionRequest& request, CallContext& call) -> FunctionResponse {
        CHECK(call.call_id() == "fake-call");
        return {201, {{"X-Path", request.path}}, "made"};
      },
      functions::whole_request(fake_request("GET", "/p"), ""), context);
  REQUIRE(outcome.response);
  CHECK(outcome.response->status == 201);
  CHECK(outcome.response->body == "made");
  CHECK(outcome.failure.empty());
}

TEST_CASE("an answer that breaks a rule is a failure naming it") {
  FakeStreamingCall context(fake_request("GET", "/"));
  auto status = functions::call_function(
      [](const FunctionRequest&, CallContext&) -> FunctionResponse {
        return {700, {}, "x"};
      },
      functions::whole_request(fake_request("GET", "/"), ""), context);
  CHECK_FALSE(status.response);
  CHECK(status.failure.find("status 700 is outside 200-599") != std::string::npos);

  auto split = functions::call_function(
      [](const FunctionRequest&, CallContext&) -> FunctionResponse {
        return {200, {{"Location", "/a\r\nSet-Cookie: x=1"}}, ""};
      },
      functions::whole_request(fake_request("GET", "/"), ""), context);
  CHECK_FALSE(split.response);
  CHECK(split.failure.find("Location") != std::string::npos);
}

TEST_CASE("an exception is a failure with its message, whatever was thrown") {
  FakeStreamingCall context(fake_request("GET", "/"));
  auto thrown = functions::call_function(
      [](const FunctionRequest&, CallContext&) -> FunctionResponse {
        throw std::runtime_error("boom");
      },
      functions::whole_request(fake_request("GET", "/"), ""), context);
  CHECK_FALSE(thrown.response);
  CHECK(thrown.failure == "boom");
  auto other = functions::call_function(
      [](const FunctionRequest&, CallContext&) -> FunctionResponse { throw 42; },
      functions::whole_request(fake_request("GET", "/"), ""), context);
  CHECK(other.failure == "an exception that is not a std::exception");
}
