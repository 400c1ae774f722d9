// CancelToken: tripped once, hooks run once, on the tripping thread.
#include <catch2/catch.hpp>

#include <thread>

#include "work/cancel_token.hpp"

using ofwatchdog::CancelReason;
using ofwatchdog::work::CancelToken;

TEST_CASE("a CancelToken trips once and keeps the first reason", "[work][cancel]") {
  CancelToken token;
  CHECK_FALSE(token.cancelled());
  CHECK_FALSE(token.reason());
  int hooks = 0;
  token.on_trip([&] { ++hooks; });
  CHECK(token.trip(CancelReason::exec_timeout));
  CHECK_FALSE(token.trip(CancelReason::client_closed));
  CHECK(token.cancelled());
  CHECK(token.reason() == CancelReason::exec_timeout);
  CHECK(hooks == 1);
}

TEST_CASE("a hook added after the trip runs at once", "[work][cancel]") {
  CancelToken token;
  token.trip(CancelReason::shutdown);
  bool ran = false;
  token.on_trip([&] { ran = true; });
  CHECK(ran);
}

TEST_CASE("hooks run on the thread that trips", "[work][cancel]") {
  CancelToken token;
  std::thread::id ran_on;
  token.on_trip([&] { ran_on = std::this_thread::get_id(); });
  std::thread other([&] { token.trip(CancelReason::client_closed); });
  std::thread::id other_id = other.get_id();
  other.join();
  CHECK(ran_on == other_id);
}
