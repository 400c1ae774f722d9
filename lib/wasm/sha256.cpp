#include "wasm/sha256.hpp"

#include <array>

#include "crypto/libcrypto.hpp"

namespace ofwatchdog::wasm {

bool sha256_available(std::string* error) {
  return crypto::libcrypto(error) != nullptr;
}

std::optional<std::string> sha256_hex(std::span<const std::uint8_t> bytes, std::string* error) {
  const crypto::LibCrypto* ssl = crypto::libcrypto(error);
  if (ssl == nullptr)
    return std::nullopt;
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  // The one-shot digest fails only when libcrypto cannot allocate or has no SHA-256.
  if (ssl->EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, ssl->EVP_sha256(),
                      nullptr) != 1 ||
      length != digest.size()) {
    if (error != nullptr)
      *error = "libcrypto could not compute a SHA-256";
    return std::nullopt;
  }
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
