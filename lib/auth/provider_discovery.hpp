#pragma once
// Where the tokens come from: the OpenID provider's configuration (OpenID Connect Discovery
// 1.0, §4) gives the issuer tokens must name and the address of its key set.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "auth/key_set.hpp"

namespace ofwatchdog::auth {

// What each fetch may take and hold.
inline constexpr std::chrono::milliseconds kFetchTimeout{10000};
inline constexpr std::size_t kMaxDocumentBytes = 1024 * 1024;

struct Provider {
  std::string issuer;
  std::string jwks_uri;
};

// `<base>/.well-known/openid-configuration` (one slash between them).
std::string openid_configuration_url(std::string_view base);

// The provider named by an OpenID configuration document, or why it names none: the document
// must be a JSON object whose `issuer` and `jwks_uri` are non-empty strings.
std::variant<Provider, std::string> read_provider(std::string_view json);

// Fetches the configuration at `base` and reads it (blocking).
std::variant<Provider, std::string> discover_provider(std::string_view base);

// Fetches and reads the key set at `jwks_uri` (blocking); `error` says why when there is none.
KeySetRead fetch_key_set(std::string_view jwks_uri);

} // namespace ofwatchdog::auth
