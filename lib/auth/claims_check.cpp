#include "auth/claims_check.hpp"

namespace ofwatchdog::auth {

namespace {

// A list claim: absent (nothing), or an array whose entries are all strings.
enum class ListShape { absent, empty, strings, malformed };

ListShape list_shape(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null())
    return ListShape::absent;
  if (!it->is_array())
    return ListShape::malformed;
  for (const nlohmann::json& entry : *it)
    if (!entry.is_string())
      return ListShape::malformed;
  return it->empty() ? ListShape::empty : ListShape::strings;
}

bool any_matches(const nlohmann::json& patterns, std::string_view target) {
  for (const nlohmann::json& entry : patterns)
    if (matches_pattern(entry.get_ref<const std::string&>(), target))
      return true;
  return false;
}

// A NumericDate (RFC 7519 §2) claim: absent, a number, or malformed.
std::optional<std::optional<double>> numeric_date(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end())
    return std::optional<double>{};
  if (!it->is_number())
    return std::nullopt;
  return std::optional<double>{it->get<double>()};
}

} // namespace

bool matches_pattern(std::string_view pattern, std::string_view target) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos; // the last `*` seen in the pattern
  std::size_t resume = 0;                    // where the target resumes after it
  while (t < target.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == target[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

std::optional<Denial> check_claims(const nlohmann::json& claims, const ClaimsPolicy& policy,
                                   double now) {
  if (!claims.is_object())
    return Denial::malformed;
  auto exp = numeric_date(claims, "exp");
  auto nbf = numeric_date(claims, "nbf");
  auto iss = claims.find("iss");
  auto aud = claims.find("aud");
  if (!exp || !nbf || (iss != claims.end() && !iss->is_string()))
    return Denial::malformed;
  if (*exp && now >= **exp + policy.leeway_seconds)
    return Denial::expired;
  if (*nbf && now + policy.leeway_seconds < **nbf)
    return Denial::not_yet_valid;
  if (iss == claims.end() || iss->get_ref<const std::string&>() != policy.issuer)
    return Denial::issuer;
  bool audience_holds_issuer = false;
  if (aud != claims.end() && aud->is_string()) {
    audience_holds_issuer = aud->get_ref<const std::string&>() == policy.issuer;
  } else if (aud != claims.end() && aud->is_array()) {
    for (const nlohmann::json& entry : *aud)
      if (entry.is_string() && entry.get_ref<const std::string&>() == policy.issuer)
        audience_holds_issuer = true;
  }
  if (!audience_holds_issuer)
    return Denial::audience;

  auto function = claims.find("function");
  if (function == claims.end() || !function->is_object())
    return Denial::permissions;
  ListShape audience = list_shape(*function, "audience");
  ListShape permissions = list_shape(*function, "permissions");
  if (audience == ListShape::malformed || permissions == ListShape::malformed)
    return Denial::permissions;
  if (audience == ListShape::strings && !any_matches((*function)["audience"], policy.function))
    return Denial::permissions;
  if (permissions != ListShape::strings ||
      !any_matches((*function)["permissions"], policy.function))
    return Denial::permissions;
  return std::nullopt;
}

} // namespace ofwatchdog::auth
