#pragma once
// SHA-256 (FIPS 180-4), for naming a module in logs and in the compile cache. Written here
// rather than taken from a crypto library: it is short, the cache key is its only use, and the
// watchdog gains no dependency for it (docs/wasm-engine.md, "Module identity").

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ofwatchdog::wasm {

class Sha256 {
public:
  Sha256();
  void update(std::span<const std::uint8_t> bytes);
  // Ends the hash; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();

private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> block_{};
  std::size_t block_used_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// The digest of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::span<const std::uint8_t> bytes);

} // namespace ofwatchdog::wasm
