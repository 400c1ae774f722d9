// Fuzz target: what jwt_auth reads from outside (docs/jwt-auth.md). An input whose first byte
// is odd is a key set document (read_key_set); any other is a bearer `Authorization` value: the
// token is taken apart, its signature checked against a fixed key set of each key type, and
// its claims checked whatever the signature says, so that mutations of the claims reach the
// claims check. The invariants: no crash, no leak, no unbounded work (the token and document
// bounds), and a denial is always one of the enumerators.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <variant>

#include "auth/claims_check.hpp"
#include "auth/key_set.hpp"
#include "auth/token_verifier.hpp"

namespace {

// Public keys of each type (RSA 2048, P-256, Ed25519), made once for this target.
// Split where it fits the line: adjacent literals are one string.
constexpr std::string_view kKeySet =
    R"({"keys": [   {"kty": "RSA", "kid": "rsa", "e": "AQAB", "n": "xp0WPx1cBRq7jTbdrsBAwdjXueu)"
    R"(jYeTXRtKkbRFhF3smCumoghQLMvbnl9vM2gG-WEvIZAQZfLDyfJI_fKFAtaEp_xXia5Eje9cZiPMgB3PXoQo3Nt-)"
    R"(aA_Pcbo2p4aIWTxxf-fRkbKcX1iY6pt_vZj1xDbxDVdPyo77oSFbxjVUmDgynTe6iwoafwacHRi-2gc9sJpSjt4c)"
    R"(wUv-mShqXq0U-6GW2WjfQiNnS4Eew9GHZB5410fTS63isZXBYCPNbA7DA5LS71vsf7FaHvYyhAMYzOp_uSMeg2G0)"
    R"(CzLWfud35u5_OJjwZXJcCM0ZagoFj5cmNOsXL9k8Ct9Z-tZIXnQ"},   {"kty": "EC", "kid": "ec", "crv)"
    R"(": "P-256", "x": "5fBgeQCO2ePbesLt23aihK3eaFxgynlZSpxKNwNDMiA", "y": "aDKcW8djWU8j5sqA6K)"
    R"(CLv2NK4fepAacZiTqWhKS3q64"},   {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "JP60e)"
    R"(vGREXvLYdkNWo4Umy1idAOc5CUNspvHF7z3U-E"}]})";

const ofwatchdog::auth::KeySet& fixed_keys() {
  static const std::shared_ptr<const ofwatchdog::auth::KeySet> keys =
      ofwatchdog::auth::read_key_set(kKeySet).set;
  if (!keys || keys->size() != 3)
    __builtin_trap();
  return *keys;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ofwatchdog::auth;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && (static_cast<unsigned char>(input.front()) & 1) != 0) {
    KeySetRead read = read_key_set(input.substr(1));
    if ((read.set == nullptr) == read.error.empty())
      __builtin_trap(); // a set, or the reason there is none: never both, never neither
    if (read.set && read.set->size() > kMaxKeys)
      __builtin_trap();
    return 0;
  }
  std::optional<std::string_view> token = bearer_token(input.empty() ? input : input.substr(1));
  if (!token)
    return 0;
  std::variant<ParsedToken, Denial> parsed = parse_token(*token);
  if (auto* denial = std::get_if<Denial>(&parsed)) {
    if (denial_label(*denial) == "unknown")
      __builtin_trap();
    return 0;
  }
  const ParsedToken& t = std::get<ParsedToken>(parsed);
  std::optional<Denial> signature = verify_token_signature(t, fixed_keys());
  if (signature && *signature != Denial::unknown_key && *signature != Denial::signature)
    __builtin_trap();
  ClaimsPolicy policy{"http://gateway.openfaas:8080", "openfaas-fn:echo", 1.0};
  std::optional<Denial> claims = check_claims(t.claims, policy, 1'800'000'000.0);
  if (claims && denial_label(*claims) == "unknown")
    __builtin_trap();
  return 0;
}
