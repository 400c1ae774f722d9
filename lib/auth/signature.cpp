#include "auth/signature.hpp"

#include <memory>
#include <string>

#include "crypto/libcrypto.hpp"

namespace ofwatchdog::auth {

namespace {

// A signature is checked only with a key, and keys are made by the libcrypto that read_key_set
// loaded: these calls never come first.
using crypto::loaded_libcrypto;

struct DigestContextFree {
  void operator()(EVP_MD_CTX* c) const { loaded_libcrypto().EVP_MD_CTX_free(c); }
};
struct EcdsaSignatureFree {
  void operator()(ECDSA_SIG* s) const { loaded_libcrypto().ECDSA_SIG_free(s); }
};

const EVP_MD* digest_for(SignatureAlgorithm algorithm) {
  const crypto::LibCrypto& ssl = loaded_libcrypto();
  switch (algorithm) {
  case SignatureAlgorithm::rs256:
  case SignatureAlgorithm::ps256:
  case SignatureAlgorithm::es256:
    return ssl.EVP_sha256();
  case SignatureAlgorithm::rs384:
  case SignatureAlgorithm::ps384:
  case SignatureAlgorithm::es384:
    return ssl.EVP_sha384();
  case SignatureAlgorithm::rs512:
  case SignatureAlgorithm::ps512:
  case SignatureAlgorithm::es512:
    return ssl.EVP_sha512();
  case SignatureAlgorithm::eddsa:
    return nullptr; // Ed25519 hashes the message itself
  }
  return nullptr;
}

bool is_pss(SignatureAlgorithm algorithm) {
  return algorithm == SignatureAlgorithm::ps256 || algorithm == SignatureAlgorithm::ps384 ||
         algorithm == SignatureAlgorithm::ps512;
}

// JWS carries an ECDSA signature as R and S, each the curve's size (RFC 7518 §3.4); OpenSSL
// verifies the DER form. Empty when the length is not twice the curve's size.
std::string ecdsa_der(SignatureAlgorithm algorithm, std::string_view raw) {
  std::size_t half = algorithm == SignatureAlgorithm::es256   ? 32
                     : algorithm == SignatureAlgorithm::es384 ? 48
                                                              : 66;
  if (raw.size() != 2 * half)
    return {};
  const crypto::LibCrypto& ssl = loaded_libcrypto();
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = ssl.BN_bin2bn(bytes, static_cast<int>(half), nullptr);
  BIGNUM* s = ssl.BN_bin2bn(bytes + half, static_cast<int>(half), nullptr);
  std::unique_ptr<ECDSA_SIG, EcdsaSignatureFree> sig(ssl.ECDSA_SIG_new());
  if (!r || !s || !sig || ssl.ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    ssl.BN_free(r);
    ssl.BN_free(s);
    return {};
  }
  int length = ssl.i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0)
    return {};
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (ssl.i2d_ECDSA_SIG(sig.get(), &out) != length)
    return {};
  return der;
}

// The names JWS gives the algorithms (RFC 7518 §3.1, RFC 8037 §3.1), in both directions.
struct AlgorithmName {
  std::string_view name;
  SignatureAlgorithm algorithm;
};
constexpr AlgorithmName kAlgorithmNames[] = {
    {"RS256", SignatureAlgorithm::rs256}, {"RS384", SignatureAlgorithm::rs384},
    {"RS512", SignatureAlgorithm::rs512}, {"PS256", SignatureAlgorithm::ps256},
    {"PS384", SignatureAlgorithm::ps384}, {"PS512", SignatureAlgorithm::ps512},
    {"ES256", SignatureAlgorithm::es256}, {"ES384", SignatureAlgorithm::es384},
    {"ES512", SignatureAlgorithm::es512}, {"EdDSA", SignatureAlgorithm::eddsa},
};

} // namespace

std::optional<SignatureAlgorithm> parse_signature_algorithm(std::string_view alg) {
  for (const AlgorithmName& n : kAlgorithmNames)
    if (n.name == alg)
      return n.algorithm;
  return std::nullopt;
}

std::string_view signature_algorithm_name(SignatureAlgorithm algorithm) {
  for (const AlgorithmName& n : kAlgorithmNames)
    if (n.algorithm == algorithm)
      return n.name;
  return {};
}

KeyKind key_kind_for(SignatureAlgorithm algorithm) {
  switch (algorithm) {
  case SignatureAlgorithm::es256:
    return KeyKind::ec_p256;
  case SignatureAlgorithm::es384:
    return KeyKind::ec_p384;
  case SignatureAlgorithm::es512:
    return KeyKind::ec_p521;
  case SignatureAlgorithm::eddsa:
    return KeyKind::ed25519;
  default:
    return KeyKind::rsa;
  }
}

bool verify_signature(SignatureAlgorithm algorithm, EVP_PKEY* key, std::string_view signing_input,
                      std::string_view signature) {
  std::string der;
  if (key_kind_for(algorithm) == KeyKind::ec_p256 || key_kind_for(algorithm) == KeyKind::ec_p384 ||
      key_kind_for(algorithm) == KeyKind::ec_p521) {
    der = ecdsa_der(algorithm, signature);
    if (der.empty())
      return false;
    signature = der;
  }
  const crypto::LibCrypto& ssl = loaded_libcrypto();
  std::unique_ptr<EVP_MD_CTX, DigestContextFree> context(ssl.EVP_MD_CTX_new());
  EVP_PKEY_CTX* key_context = nullptr;
  if (!context || ssl.EVP_DigestVerifyInit(context.get(), &key_context, digest_for(algorithm),
                                           nullptr, key) != 1)
    return false;
  if (is_pss(algorithm)) {
    // RFC 7518 §3.5: MGF1 with the same hash, and a salt as long as the hash.
    if (ssl.EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
        ssl.EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        ssl.EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, digest_for(algorithm)) != 1)
      return false;
  }
  return ssl.EVP_DigestVerify(
             context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(), reinterpret_cast<const unsigned char*>(signing_input.data()),
             signing_input.size()) == 1;
}

} // namespace ofwatchdog::auth
