#pragma once
// SHA-256, for naming a module in logs and in the compile cache (docs/wasm-engine.md, "Module
// identity"), computed by OpenSSL's libcrypto, which dynamic builds load at its first use
// (crypto/libcrypto.hpp): a watchdog that runs no module never maps it.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ofwatchdog::wasm {

// Whether sha256_hex can work: libcrypto is loaded, now if no call has loaded it yet. Otherwise
// `*error` names the library and says why. Start-up and the compile commands ask first, so that
// a missing library is said as what it is, not as a module found invalid.
bool sha256_available(std::string* error);

// The digest of `bytes` as 64 lowercase hex digits; nothing, with `*error` set, when libcrypto
// cannot be loaded or cannot compute it. A module must never be named by a wrong digest: it
// would be served from another module's compiled code.
std::optional<std::string> sha256_hex(std::span<const std::uint8_t> bytes, std::string* error);

} // namespace ofwatchdog::wasm
