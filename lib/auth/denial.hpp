#pragma once
// Why a function request was refused: the answer it gets, the label of
// `jwt_auth_denials_total`, and the words of the 401's body.

#include <string_view>

namespace ofwatchdog::auth {

enum class Denial {
  missing,       // no `Authorization: Bearer <token>`
  too_large,     // a token longer than kMaxTokenBytes
  malformed,     // not three base64url parts of JSON, or claims of the wrong type
  algorithm,     // an algorithm that is not asymmetric (HS*, none) or not known
  unknown_key,   // no key of the set has the token's kid and a type fitting its algorithm
  signature,     // the signature does not verify
  expired,       // past `exp` (with the leeway)
  not_yet_valid, // before `nbf` (with the leeway)
  issuer,        // `iss` is not the provider's issuer
  audience,      // `aud` does not hold the issuer
  permissions,   // the `function` claim does not name this function (403)
};

// The metric label: the enumerator's name.
std::string_view denial_label(Denial denial);
// What the 401 body says after "failed to verify JWT token: " (permissions and missing have
// bodies of their own).
std::string_view denial_text(Denial denial);
// 403 for permissions, 401 for the rest.
int denial_status(Denial denial);

} // namespace ofwatchdog::auth
