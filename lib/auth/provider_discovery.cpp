#include "auth/provider_discovery.hpp"

#include <fmt/format.h>

#include "auth/bounded_json.hpp"
#include "auth/http_get.hpp"

namespace ofwatchdog::auth {

std::string openid_configuration_url(std::string_view base) {
  while (!base.empty() && base.back() == '/')
    base.remove_suffix(1);
  return fmt::format("{}/.well-known/openid-configuration", base);
}

std::variant<Provider, std::string> read_provider(std::string_view json) {
  std::optional<nlohmann::json> document = parse_bounded_json(json);
  if (!document || !document->is_object())
    return std::string("the OpenID configuration is not a JSON object");
  Provider provider;
  for (auto [name, field] :
       {std::pair{"issuer", &provider.issuer}, std::pair{"jwks_uri", &provider.jwks_uri}}) {
    auto it = document->find(name);
    if (it == document->end() || !it->is_string() || it->get_ref<const std::string&>().empty())
      return fmt::format("the OpenID configuration has no {}", name);
    *field = it->get<std::string>();
  }
  return provider;
}

std::variant<Provider, std::string> discover_provider(std::string_view base) {
  std::string url = openid_configuration_url(base);
  HttpGetResult got = http_get(url, kFetchTimeout, kMaxDocumentBytes);
  if (!got.ok())
    return got.error;
  std::variant<Provider, std::string> provider = read_provider(got.body);
  if (auto* error = std::get_if<std::string>(&provider))
    *error = fmt::format("{} (from {})", *error, url);
  return provider;
}

KeySetRead fetch_key_set(std::string_view jwks_uri) {
  HttpGetResult got = http_get(jwks_uri, kFetchTimeout, kMaxDocumentBytes);
  if (!got.ok()) {
    KeySetRead failed;
    failed.error = got.error;
    return failed;
  }
  KeySetRead read = read_key_set(got.body);
  if (!read.error.empty())
    read.error = fmt::format("{} (from {})", read.error, jwks_uri);
  return read;
}

} // namespace ofwatchdog::auth
