// The effective exec timeout (docs/decisions.md, x-timeout).
#include <catch2/catch.hpp>

#include <string>

#include "modes/exec_timeout.hpp"

using namespace std::chrono_literals;
using ofwatchdog::Duration;
using ofwatchdog::modes::effective_exec_timeout;

namespace {
Duration with(Duration exec, const char* header) {
  std::string value = header;
  return effective_exec_timeout(exec, &value);
}
} // namespace

TEST_CASE("without X-Timeout the exec timeout applies", "[exec_timeout]") {
  CHECK(effective_exec_timeout(30s, nullptr) == 30s);
  CHECK(effective_exec_timeout(0s, nullptr) == 0s);
}

TEST_CASE("X-Timeout can only shorten", "[exec_timeout]") {
  CHECK(with(30s, "1s") == 1s);
  CHECK(with(30s, "250ms") == 250ms);
  CHECK(with(30s, "30s") == 30s);
  CHECK(with(30s, "60s") == 30s);
}

TEST_CASE("X-Timeout <= 0 or unparsable is ignored", "[exec_timeout]") {
  CHECK(with(2s, "0s") == 2s);
  CHECK(with(2s, "0") == 2s);
  CHECK(with(2s, "-1s") == 2s);
  CHECK(with(2s, "5") == 2s); // a bare integer is not a Go duration
  CHECK(with(2s, "soon") == 2s);
  CHECK(with(2s, "") == 2s);
}

TEST_CASE("a disabled exec timeout cannot be enabled by a request", "[exec_timeout]") {
  CHECK(with(0s, "1s") == 0s);
  CHECK(with(-1s, "1s") == 0s);
}
