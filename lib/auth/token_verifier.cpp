#include "auth/token_verifier.hpp"

#include "auth/base64url.hpp"
#include "auth/bounded_json.hpp"
#include "util/strings.hpp"

namespace ofwatchdog::auth {

namespace {

std::optional<nlohmann::json> json_object_part(std::string_view encoded) {
  std::optional<std::string> text = decode_base64url(encoded);
  if (!text)
    return std::nullopt;
  std::optional<nlohmann::json> value = parse_bounded_json(*text);
  if (!value || !value->is_object())
    return std::nullopt;
  return value;
}

} // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !istarts_with(authorization, kScheme) ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t'))
    return std::nullopt;
  std::string_view token = trim_ows(authorization.substr(kScheme.size()));
  if (token.empty())
    return std::nullopt;
  return token;
}

std::variant<ParsedToken, Denial> parse_token(std::string_view token) {
  if (token.size() > kMaxTokenBytes)
    return Denial::too_large;
  std::size_t first = token.find('.');
  std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return Denial::malformed;
  std::optional<nlohmann::json> header = json_object_part(token.substr(0, first));
  if (!header)
    return Denial::malformed;
  auto alg = header->find("alg");
  auto kid = header->find("kid");
  // A critical extension this verifier does not know must fail the token (RFC 7515 §4.1.11).
  if (alg == header->end() || !alg->is_string() || header->contains("crit"))
    return Denial::malformed;
  std::optional<SignatureAlgorithm> algorithm =
      parse_signature_algorithm(alg->get_ref<const std::string&>());
  if (!algorithm)
    return Denial::algorithm;
  if (kid == header->end() || !kid->is_string() || kid->get_ref<const std::string&>().empty())
    return Denial::malformed;
  std::optional<nlohmann::json> claims =
      json_object_part(token.substr(first + 1, second - first - 1));
  std::optional<std::string> signature = decode_base64url(token.substr(second + 1));
  if (!claims || !signature || signature->empty())
    return Denial::malformed;
  return ParsedToken{*algorithm, kid->get<std::string>(), std::string(token.substr(0, second)),
                     std::move(*signature), std::move(*claims)};
}

std::optional<Denial> verify_token_signature(const ParsedToken& token, const KeySet& keys) {
  const VerifyKey* key = keys.find(token.kid, key_kind_for(token.algorithm),
                                   signature_algorithm_name(token.algorithm));
  if (key == nullptr)
    return Denial::unknown_key;
  if (!verify_signature(token.algorithm, key->key.get(), token.signing_input, token.signature))
    return Denial::signature;
  return std::nullopt;
}

} // namespace ofwatchdog::auth
