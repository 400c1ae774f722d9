#pragma once
// What a verified token must say for this function: the registered claims (RFC 7519 §4.1)
// against the provider's issuer and the clock, then OpenFaaS' `function` claim against the
// function's `namespace:name`.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/denial.hpp"

namespace ofwatchdog::auth {

struct ClaimsPolicy {
  std::string issuer;   // `iss` must equal it, and `aud` must hold it
  std::string function; // "<namespace>:<name>"
  double leeway_seconds = 1.0;
};

// Nothing when the claims admit the request at `now` (seconds since the epoch), else why not.
// In order: the types of the claims read (malformed), `exp` (expired), `nbf` (not_yet_valid),
// `iss` (issuer), `aud` (audience), then `function` (permissions): its `audience` list, when
// present and not empty, and its `permissions` list, always, must each hold a pattern matching
// the function.
std::optional<Denial> check_claims(const nlohmann::json& claims, const ClaimsPolicy& policy,
                                   double now);

// Whether `pattern` matches all of `target`, `*` standing for any run of characters (none
// included). Linear in practice: a mismatch retries only from the last `*`.
bool matches_pattern(std::string_view pattern, std::string_view target);

} // namespace ofwatchdog::auth
