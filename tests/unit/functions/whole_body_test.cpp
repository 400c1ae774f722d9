// serve_whole_body: the body read whole, the answer checked and sent with its length.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "fake_streaming_call.hpp"
#include "functions/whole_body.hpp"

using namespace ofwatchdog;
using ofwatchdog::testing::fake_request;
using ofwatchdog::testing::FakeStreamingCall;

TEST_CASE("the function gets the whole body and its answer goes out with its length") {
  std::string body(200 * 1024, 'q');
  FakeStreamingCall call(fake_request("POST", "/echo", {{"X-A", "1"}}), body);
  StreamingFunction serve = functions::serve_whole_body(
      [](const FunctionRequest& request, CallContext& context) -> FunctionResponse {
        CHECK(request.method == "POST");
        CHECK(request.path == "/echo");
        CHECK(*request.header("x-a") == "1");
        CHECK(context.call_id() == "fake-call");
        return {201, {{"X-Size", std::to_string(request.body.size())}}, request.body};
      });
  serve(call);
  CHECK(call.status == 201);
  CHECK(call.content_length == body.size());
  CHECK(call.written == body);
  CHECK(*find_header(call.headers, "X-Size") == std::to_string(body.size()));
  CHECK_FALSE(call.failed);
}

TEST_CASE("an answer that breaks a rule is a failure naming it") {
  FakeStreamingCall call(fake_request("GET", "/"));
  functions::serve_whole_body([](const FunctionRequest&, CallContext&) -> FunctionResponse {
    return {700, {}, "x"};
  })(call);
  REQUIRE(call.failed);
  CHECK(call.failed->find("status 700 is outside 200-599") != std::string::npos);
  CHECK_FALSE(call.status);

  FakeStreamingCall split(fake_request("GET", "/"));
  functions::serve_whole_body([](const FunctionRequest&, CallContext&) -> FunctionResponse {
    return {200, {{"Location", "/a\r\nSet-Cookie: x=1"}}, ""};
  })(split);
  REQUIRE(split.failed);
  CHECK(split.failed->find("Location") != std::string::npos);
}

TEST_CASE("an answer after the call was stopped is dropped") {
  FakeStreamingCall call(fake_request("GET", "/"));
  functions::serve_whole_body([&](const FunctionRequest&, CallContext&) -> FunctionResponse {
    call.stop.request_stop();
    return {200, {}, "late"};
  })(call);
  CHECK_FALSE(call.status);
  CHECK(call.written.empty());
}

TEST_CASE("an exception goes on to the mode's job") {
  FakeStreamingCall call(fake_request("GET", "/"));
  StreamingFunction serve = functions::serve_whole_body(
      [](const FunctionRequest&, CallContext&) -> FunctionResponse {
        throw std::runtime_error("boom");
      });
  CHECK_THROWS_WITH(serve(call), "boom");
}
