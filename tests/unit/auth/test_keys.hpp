#pragma once
// Keys made with OpenSSL for the tests of function authentication, and the tokens they sign:
// each key's public half as a JSON Web Key, and a signer of compact JWS tokens.

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

typedef struct evp_pkey_st EVP_PKEY;

namespace ofwatchdog::auth::testing {

std::string base64url(std::string_view bytes);

class TestKey {
public:
  // `type`: "RSA" (2048 bits unless `rsa_bits`), "P-256", "P-384", "P-521" or "Ed25519".
  static TestKey make(std::string_view type, std::string kid, int rsa_bits = 2048);

  // The public key as a JWK with `kid`, `kty` and its numbers (no `alg`, no `use`).
  nlohmann::json jwk() const;
  // A token `header.claims.signature` signed with `alg` (RS256, PS384, ES256, EdDSA, ...).
  // `header` members are added to {"alg", "kid"}, replacing them.
  std::string sign(std::string_view alg, const nlohmann::json& claims,
                   const nlohmann::json& header = nlohmann::json::object()) const;

  const std::string& kid() const { return kid_; }

private:
  std::string type_;
  std::string kid_;
  std::shared_ptr<EVP_PKEY> key_;
};

} // namespace ofwatchdog::auth::testing
