#pragma once
// A request's bearer token taken apart and checked: the compact JWS form and its header, the
// signature against the provider's key named by `kid`, then the claims (claims_check.hpp).
// Split in two steps so that a token naming a key the set lacks can wait for a fresh key set
// (docs/jwt-auth.md, "Key rotation") between them.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "auth/claims_check.hpp"
#include "auth/denial.hpp"
#include "auth/key_set.hpp"
#include "auth/signature.hpp"

namespace ofwatchdog::auth {

// OpenFaaS tokens are about a kilobyte; anything this large is refused before it is decoded.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;

// The token of an `Authorization` value `Bearer <token>` (the scheme in any case), or nothing.
std::optional<std::string_view> bearer_token(std::string_view authorization);

struct ParsedToken {
  SignatureAlgorithm algorithm;
  std::string kid;
  std::string signing_input; // the first two parts and their dot, as sent
  std::string signature;     // decoded
  nlohmann::json claims;     // the payload, a JSON object
};

// The token's parts, or why it is refused: too_large, malformed (not three base64url parts,
// a header or payload that is not a JSON object, a `crit` header, no `kid`) or algorithm.
std::variant<ParsedToken, Denial> parse_token(std::string_view token);

// The signature checked against the key of `keys` named by the token: unknown_key when there
// is none that fits the algorithm, signature when it does not verify.
std::optional<Denial> verify_token_signature(const ParsedToken& token, const KeySet& keys);

} // namespace ofwatchdog::auth
