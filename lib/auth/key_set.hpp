#pragma once
// The provider's signing keys: a JSON Web Key Set (RFC 7517) read into OpenSSL public keys, so
// that a token's signature is checked against a key whose type the set declares, never one
// inferred from the token.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace ofwatchdog::auth {

// What a key can verify: RSA keys the RS* and PS* algorithms, each curve its own ES*, Ed25519
// EdDSA.
enum class KeyKind { rsa, ec_p256, ec_p384, ec_p521, ed25519 };

struct PublicKeyFree {
  void operator()(EVP_PKEY* key) const;
};
using PublicKey = std::unique_ptr<EVP_PKEY, PublicKeyFree>;

struct VerifyKey {
  std::string kid;
  KeyKind kind;
  std::string alg; // the key's `alg` member, empty when it has none
  PublicKey key;
};

// RSA keys shorter than this are skipped: they no longer protect anything.
inline constexpr int kMinRsaBits = 2048;
// A set larger than this is refused: no provider publishes that many signing keys.
inline constexpr std::size_t kMaxKeys = 256;

struct KeySet {
  // The key named `kid` that can verify `alg` (`kind`, and the key's own `alg` when it names
  // one), or null.
  const VerifyKey* find(std::string_view kid, KeyKind kind, std::string_view alg) const;
  // Whether any key is named `kid`, whatever its type.
  bool has_kid(std::string_view kid) const;
  // The key ids, in the set's order, for the log.
  std::string kid_list() const;
  std::size_t size() const { return keys.size(); }

  std::vector<VerifyKey> keys;
};

struct KeySetRead {
  std::shared_ptr<const KeySet> set; // null on error
  std::string error;                 // why the document is not a key set
  std::vector<std::string> skipped;  // keys left out, each with its reason, for the log
};

// Reads `{"keys":[...]}`. A key that is not for signatures (`use` other than `sig`), has no
// `kid`, is of a type or curve not listed above, or whose numbers do not make a valid key is
// skipped with a reason; the document itself must be a JSON object with a `keys` array.
KeySetRead read_key_set(std::string_view json);

} // namespace ofwatchdog::auth
