// What execve takes: one string under 128 KiB, the whole block under the limit.

#include <catch2/catch.hpp>

#include "process/exec_limits.hpp"

using ofwatchdog::process::exec_limit_fault;
using ofwatchdog::process::kMaxExecString;

TEST_CASE("an environment string of 128 KiB or more does not fit", "[process][exec]") {
  std::vector<std::string> argv{"cat"};
  std::string name = "Http_X_Big=";
  std::string fits = name + std::string(kMaxExecString - 1 - name.size(), 'b');
  CHECK_FALSE(exec_limit_fault(argv, {fits}, 1 << 30));
  auto fault = exec_limit_fault(argv, {"PATH=/bin", fits + "b"}, 1 << 30);
  REQUIRE(fault);
  CHECK(fault->find("Http_X_Big") != std::string::npos);
  CHECK(fault->find("131071") != std::string::npos);
}

TEST_CASE("the whole block counts each string's NUL and pointer", "[process][exec]") {
  std::vector<std::string> argv{"cat"};                       // 4 + 8
  std::vector<std::string> env{std::string(100, 'a'), "B=1"}; // 101 + 8, 4 + 8
  std::size_t exact = 4 + 8 + 101 + 8 + 4 + 8;
  CHECK_FALSE(exec_limit_fault(argv, env, exact));
  auto fault = exec_limit_fault(argv, env, exact - 1);
  REQUIRE(fault);
  CHECK(fault->find("at most") != std::string::npos);
}
