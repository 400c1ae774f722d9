// sha256_hex against the FIPS 180-4 / NIST example vectors: the module name the cache uses.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "wasm/sha256.hpp"

using ofwatchdog::wasm::sha256_hex;

namespace {
std::string hex_of(const std::string& text) {
  std::string error;
  std::optional<std::string> hex =
      sha256_hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, &error);
  INFO(error);
  REQUIRE(hex);
  return *hex;
}
} // namespace

TEST_CASE("sha256 matches the published test vectors", "[wasm][sha256]") {
  CHECK(hex_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
               "klmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(hex_of(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
