#include "test_keys.hpp"

#include <stdexcept>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

namespace ofwatchdog::auth::testing {

namespace {

void require(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(what);
}

std::string bignum_bytes(const EVP_PKEY* key, const char* name) {
  BIGNUM* n = nullptr;
  require(EVP_PKEY_get_bn_param(key, name, &n) == 1, name);
  std::string out(static_cast<std::size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(n);
  return out;
}

std::size_t coordinate_bytes(std::string_view curve) {
  return curve == "P-256" ? 32 : curve == "P-384" ? 48 : 66;
}

const EVP_MD* digest_of(std::string_view alg) {
  if (alg.ends_with("256"))
    return EVP_sha256();
  if (alg.ends_with("384"))
    return EVP_sha384();
  return EVP_sha512();
}

} // namespace

std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out.push_back(kAlphabet[(bits >> held) & 63]);
    }
  }
  if (held > 0)
    out.push_back(kAlphabet[(bits << (6 - held)) & 63]);
  return out;
}

TestKey TestKey::make(std::string_view type, std::string kid, int rsa_bits) {
  TestKey made;
  made.type_ = std::string(type);
  made.kid_ = std::move(kid);
  EVP_PKEY* key = nullptr;
  if (type == "RSA")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits));
  else if (type == "Ed25519")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC",
                            type == "P-256"   ? "prime256v1"
                            : type == "P-384" ? "secp384r1"
                                              : "secp521r1");
  require(key != nullptr, "key generation");
  made.key_.reset(key, EVP_PKEY_free);
  return made;
}

nlohmann::json TestKey::jwk() const {
  EVP_PKEY* key = key_.get();
  if (type_ == "RSA")
    return {{"kty", "RSA"},
            {"kid", kid_},
            {"n", base64url(bignum_bytes(key, OSSL_PKEY_PARAM_RSA_N))},
            {"e", base64url(bignum_bytes(key, OSSL_PKEY_PARAM_RSA_E))}};
  if (type_ == "Ed25519") {
    std::string x(32, '\0');
    std::size_t length = x.size();
    require(EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(x.data()), &length) ==
                1,
            "raw public key");
    return {{"kty", "OKP"}, {"kid", kid_}, {"crv", "Ed25519"}, {"x", base64url(x)}};
  }
  std::string point(1 + 2 * coordinate_bytes(type_), '\0');
  std::size_t length = 0;
  require(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY,
                                          reinterpret_cast<unsigned char*>(point.data()),
                                          point.size(), &length) == 1 &&
              length == point.size(),
          "EC point");
  std::size_t half = coordinate_bytes(type_);
  return {{"kty", "EC"},
          {"kid", kid_},
          {"crv", type_},
          {"x", base64url(point.substr(1, half))},
          {"y", base64url(point.substr(1 + half, half))}};
}

std::string TestKey::sign(std::string_view alg, const nlohmann::json& claims,
                          const nlohmann::json& header) const {
  nlohmann::json head = {{"alg", alg}, {"kid", kid_}, {"typ", "JWT"}};
  for (auto& [name, value] : header.items())
    head[name] = value;
  std::string input = base64url(head.dump()) + "." + base64url(claims.dump());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  EVP_PKEY_CTX* key_context = nullptr;
  const EVP_MD* md = type_ == "Ed25519" ? nullptr : digest_of(alg);
  require(EVP_DigestSignInit(context.get(), &key_context, md, nullptr, key_.get()) == 1, "init");
  if (alg.starts_with("PS")) {
    require(EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) == 1 &&
                EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) == 1,
            "pss");
  }
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  require(EVP_DigestSign(context.get(), nullptr, &length, data, input.size()) == 1, "size");
  std::string signature(length, '\0');
  require(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                         data, input.size()) == 1,
          "sign");
  signature.resize(length);
  if (type_ != "RSA" && type_ != "Ed25519") {
    // DER to the JWS form: R and S, each the curve's size.
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
    require(sig != nullptr, "der");
    std::size_t half = coordinate_bytes(type_);
    std::string raw(2 * half, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(half));
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + half,
                 static_cast<int>(half));
    ECDSA_SIG_free(sig);
    signature = raw;
  }
  return input + "." + base64url(signature);
}

} // namespace ofwatchdog::auth::testing
