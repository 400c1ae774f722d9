#include "wasm/sha256.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>

#include "util/invariant.hpp"
#include <openssl/evp.h>

namespace ofwatchdog::wasm {

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  // The one-shot digest fails only when libcrypto cannot allocate or has no SHA-256, and a
  // module named by a wrong digest would be served from another module's compiled code.
  OFW_INVARIANT(
      EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) == 1 &&
          length == digest.size(),
      "SHA-256 is available from libcrypto");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char byte : digest) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

} // namespace ofwatchdog::wasm
