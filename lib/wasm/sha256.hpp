#pragma once
// SHA-256, for naming a module in logs and in the compile cache (docs/wasm-engine.md, "Module
// identity"), computed by OpenSSL's libcrypto, which function authentication links anyway.

#include <cstdint>
#include <span>
#include <string>

namespace ofwatchdog::wasm {

// The digest of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::span<const std::uint8_t> bytes);

} // namespace ofwatchdog::wasm
