// The table of libcrypto's functions: loaded at run time in dynamic builds, and what a library
// that cannot be loaded gives.
#include <catch2/catch.hpp>

#include <array>
#include <string>

#include <fmt/format.h>

#include "crypto/libcrypto.hpp"

using ofwatchdog::crypto::kLibcryptoName;
using ofwatchdog::crypto::libcrypto;
using ofwatchdog::crypto::LibCrypto;
using ofwatchdog::crypto::load_libcrypto;

TEST_CASE("the table loads and computes a SHA-256 through it", "[crypto]") {
  std::string error;
  const LibCrypto* ssl = libcrypto(&error);
  INFO(error);
  REQUIRE(ssl != nullptr);
  CHECK(error.empty());
  CHECK(libcrypto(nullptr) == ssl); // loaded once
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  const std::string text = "abc";
  REQUIRE(ssl->EVP_Digest(text.data(), text.size(), digest.data(), &length, ssl->EVP_sha256(),
                          nullptr) == 1);
  REQUIRE(length == digest.size());
  std::string hex;
  for (unsigned char byte : digest)
    hex += fmt::format("{:02x}", byte);
  // FIPS 180-4's example "abc".
  CHECK(hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#ifndef OFWATCHDOG_LIBCRYPTO_LINKED
TEST_CASE("a library that cannot be loaded gives no table and an error naming it", "[crypto]") {
  std::string error;
  CHECK(load_libcrypto("libofwatchdog-no-such-crypto.so.3", &error) == nullptr);
  CHECK_THAT(error, Catch::Contains("cannot load libofwatchdog-no-such-crypto.so.3"));
  // A library without the functions: libc is there, and has none of them.
  error.clear();
  CHECK(load_libcrypto("libc.so.6", &error) == nullptr);
  CHECK_THAT(error, Catch::Contains("cannot load libc.so.6"));
  CHECK_THAT(error, Catch::Contains("BN_bin2bn"));
  // The process's own table is not touched by either.
  CHECK(libcrypto(nullptr) != nullptr);
  CHECK(std::string(kLibcryptoName) == "libcrypto.so.3");
}
#endif
