// SHA-256 against the FIPS 180-4 / NIST example vectors, and fed in uneven pieces.
#include <catch2/catch.hpp>

#include <string>

#include "wasm/sha256.hpp"

using ofwatchdog::wasm::Sha256;
using ofwatchdog::wasm::sha256_hex;

namespace {
std::string hex_of(const std::string& text) {
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
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

TEST_CASE("sha256 gives the same digest however the input is split", "[wasm][sha256]") {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += static_cast<char>(i * 7);
  }
  std::string whole = hex_of(text);
  for (std::size_t piece : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 200u}) {
    Sha256 hash;
    for (std::size_t at = 0; at < text.size(); at += piece) {
      std::size_t take = std::min(piece, text.size() - at);
      hash.update({reinterpret_cast<const std::uint8_t*>(text.data()) + at, take});
    }
    auto digest = hash.finish();
    std::string hex;
    for (auto byte : digest) {
      static const char kHex[] = "0123456789abcdef";
      hex += kHex[byte >> 4];
      hex += kHex[byte & 15];
    }
    INFO("piece " << piece);
    CHECK(hex == whole);
  }
}
