#pragma once
// The signature of a compact JWS (RFC 7515) checked with OpenSSL, for the asymmetric
// algorithms of RFC 7518 and RFC 8037 only: a token signed with a shared secret (HS*) or not at
// all (`none`) is never accepted, whatever key it names.

#include <optional>
#include <string_view>

#include "auth/key_set.hpp"

namespace ofwatchdog::auth {

enum class SignatureAlgorithm {
  rs256,
  rs384,
  rs512,
  ps256,
  ps384,
  ps512,
  es256,
  es384,
  es512,
  eddsa
};

// The algorithm a token's `alg` names, or nothing for HS*, `none` and anything unknown.
std::optional<SignatureAlgorithm> parse_signature_algorithm(std::string_view alg);

// The `alg` value that names `algorithm`.
std::string_view signature_algorithm_name(SignatureAlgorithm algorithm);

// The kind of key that verifies `algorithm`.
KeyKind key_kind_for(SignatureAlgorithm algorithm);

// Whether `signature` (raw bytes, as the token carries them) is `key`'s signature of
// `signing_input` (the token's first two parts with their dot) under `algorithm`. The key's
// kind must be key_kind_for(algorithm).
bool verify_signature(SignatureAlgorithm algorithm, EVP_PKEY* key, std::string_view signing_input,
                      std::string_view signature);

} // namespace ofwatchdog::auth
