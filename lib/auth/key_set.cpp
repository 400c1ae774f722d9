#include "auth/key_set.hpp"

#include <fmt/format.h>

#include "auth/base64url.hpp"
#include "auth/bounded_json.hpp"
#include "crypto/libcrypto.hpp"

namespace ofwatchdog::auth {

using crypto::loaded_libcrypto;

// A key exists only once read_key_set has loaded libcrypto.
void PublicKeyFree::operator()(EVP_PKEY* key) const {
  loaded_libcrypto().EVP_PKEY_free(key);
}

namespace {

struct BignumFree {
  void operator()(BIGNUM* n) const { loaded_libcrypto().BN_free(n); }
};
struct ParamBuildFree {
  void operator()(OSSL_PARAM_BLD* b) const { loaded_libcrypto().OSSL_PARAM_BLD_free(b); }
};
struct ParamsFree {
  void operator()(OSSL_PARAM* p) const { loaded_libcrypto().OSSL_PARAM_free(p); }
};
struct KeyContextFree {
  void operator()(EVP_PKEY_CTX* c) const { loaded_libcrypto().EVP_PKEY_CTX_free(c); }
};

// A member that must be a base64url string, decoded; empty when absent or malformed.
std::string member_bytes(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string())
    return {};
  return decode_base64url(it->get_ref<const std::string&>()).value_or(std::string{});
}

// A public key built from OpenSSL parameters (`type` "RSA" or "EC").
PublicKey key_from_params(const char* type, OSSL_PARAM_BLD* build) {
  const crypto::LibCrypto& ssl = loaded_libcrypto();
  std::unique_ptr<OSSL_PARAM, ParamsFree> params(ssl.OSSL_PARAM_BLD_to_param(build));
  std::unique_ptr<EVP_PKEY_CTX, KeyContextFree> context(
      ssl.EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !context || ssl.EVP_PKEY_fromdata_init(context.get()) != 1)
    return nullptr;
  EVP_PKEY* key = nullptr;
  if (ssl.EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  PublicKey owned(key);
  // fromdata takes the numbers as given; the public-key check refuses an EC point off its
  // curve and an RSA modulus that is even or an exponent that is not odd and > 1.
  std::unique_ptr<EVP_PKEY_CTX, KeyContextFree> check(
      ssl.EVP_PKEY_CTX_new_from_pkey(nullptr, owned.get(), nullptr));
  if (!check || ssl.EVP_PKEY_public_check(check.get()) != 1)
    return nullptr;
  return owned;
}

PublicKey rsa_key(const nlohmann::json& jwk, std::string& why) {
  const crypto::LibCrypto& ssl = loaded_libcrypto();
  std::string n = member_bytes(jwk, "n");
  std::string e = member_bytes(jwk, "e");
  if (n.empty() || e.empty()) {
    why = "an RSA key needs base64url members n and e";
    return nullptr;
  }
  std::unique_ptr<BIGNUM, BignumFree> modulus(ssl.BN_bin2bn(
      reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BignumFree> exponent(ssl.BN_bin2bn(
      reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> build(ssl.OSSL_PARAM_BLD_new());
  if (!modulus || !exponent || !build ||
      ssl.OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      ssl.OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
    why = "out of memory";
    return nullptr;
  }
  PublicKey key = key_from_params("RSA", build.get());
  if (!key) {
    why = "its numbers are not an RSA public key";
    return nullptr;
  }
  if (ssl.EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    why = fmt::format("an RSA key of {} bits is shorter than {}", ssl.EVP_PKEY_get_bits(key.get()),
                      kMinRsaBits);
    return nullptr;
  }
  return key;
}

struct Curve {
  std::string_view jwk_name;
  const char* openssl_name;
  std::size_t coordinate_bytes;
  KeyKind kind;
};
constexpr Curve kCurves[] = {
    {"P-256", "prime256v1", 32, KeyKind::ec_p256},
    {"P-384", "secp384r1", 48, KeyKind::ec_p384},
    {"P-521", "secp521r1", 66, KeyKind::ec_p521},
};

PublicKey ec_key(const nlohmann::json& jwk, KeyKind& kind, std::string& why) {
  const crypto::LibCrypto& ssl = loaded_libcrypto();
  auto crv = jwk.find("crv");
  const Curve* curve = nullptr;
  if (crv != jwk.end() && crv->is_string()) {
    for (const Curve& c : kCurves)
      if (crv->get_ref<const std::string&>() == c.jwk_name)
        curve = &c;
  }
  if (curve == nullptr) {
    why = "an EC key's crv must be P-256, P-384 or P-521";
    return nullptr;
  }
  std::string x = member_bytes(jwk, "x");
  std::string y = member_bytes(jwk, "y");
  // RFC 7518 §6.2.1.2: each coordinate is exactly the field's size, leading zeros kept.
  if (x.size() != curve->coordinate_bytes || y.size() != curve->coordinate_bytes) {
    why = fmt::format("an EC key on {} needs x and y of {} bytes", curve->jwk_name,
                      curve->coordinate_bytes);
    return nullptr;
  }
  std::string point = "\x04" + x + y; // the uncompressed point encoding
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> build(ssl.OSSL_PARAM_BLD_new());
  if (!build ||
      ssl.OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                          curve->openssl_name, 0) != 1 ||
      ssl.OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                           point.size()) != 1) {
    why = "out of memory";
    return nullptr;
  }
  PublicKey key = key_from_params("EC", build.get());
  if (!key)
    why = "its point is not on the curve";
  kind = curve->kind;
  return key;
}

PublicKey okp_key(const nlohmann::json& jwk, std::string& why) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string() || crv->get_ref<const std::string&>() != "Ed25519") {
    why = "an OKP key's crv must be Ed25519";
    return nullptr;
  }
  std::string x = member_bytes(jwk, "x");
  if (x.size() != 32) {
    why = "an Ed25519 key needs x of 32 bytes";
    return nullptr;
  }
  PublicKey key(loaded_libcrypto().EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
  if (!key)
    why = "its x is not an Ed25519 public key";
  return key;
}

std::string string_member(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

} // namespace

const VerifyKey* KeySet::find(std::string_view kid, KeyKind kind, std::string_view alg) const {
  for (const VerifyKey& key : keys) {
    if (key.kid == kid && key.kind == kind && (key.alg.empty() || key.alg == alg))
      return &key;
  }
  return nullptr;
}

bool KeySet::has_kid(std::string_view kid) const {
  for (const VerifyKey& key : keys)
    if (key.kid == kid)
      return true;
  return false;
}

std::string KeySet::kid_list() const {
  std::string out;
  for (const VerifyKey& key : keys)
    out += fmt::format("{}{}", out.empty() ? "" : ", ", key.kid);
  return out;
}

KeySetRead read_key_set(std::string_view json) {
  KeySetRead read;
  // Every key below is made by libcrypto, which dynamic builds load now, at the first key set.
  if (crypto::libcrypto(&read.error) == nullptr)
    return read;
  std::optional<nlohmann::json> document = parse_bounded_json(json);
  if (!document || !document->is_object()) {
    read.error = "the key set is not a JSON object";
    return read;
  }
  auto keys = document->find("keys");
  if (keys == document->end() || !keys->is_array()) {
    read.error = "the key set has no \"keys\" array";
    return read;
  }
  if (keys->size() > kMaxKeys) {
    read.error = fmt::format("the key set has {} keys, more than {}", keys->size(), kMaxKeys);
    return read;
  }
  auto set = std::make_shared<KeySet>();
  std::size_t index = 0;
  for (const nlohmann::json& jwk : *keys) {
    ++index;
    if (!jwk.is_object()) {
      read.skipped.push_back(fmt::format("key {}: not a JSON object", index));
      continue;
    }
    std::string kid = string_member(jwk, "kid");
    std::string kty = string_member(jwk, "kty");
    std::string use = string_member(jwk, "use");
    std::string name = kid.empty() ? fmt::format("key {}", index) : fmt::format("key {}", kid);
    if (kid.empty()) {
      read.skipped.push_back(name + ": no kid, which tokens name their key by");
      continue;
    }
    if (!use.empty() && use != "sig") {
      read.skipped.push_back(fmt::format("{}: use {} is not sig", name, use));
      continue;
    }
    std::string why;
    KeyKind kind = KeyKind::rsa;
    PublicKey key;
    if (kty == "RSA") {
      key = rsa_key(jwk, why);
    } else if (kty == "EC") {
      key = ec_key(jwk, kind, why);
    } else if (kty == "OKP") {
      kind = KeyKind::ed25519;
      key = okp_key(jwk, why);
    } else {
      why = fmt::format("kty {} is not RSA, EC or OKP", kty.empty() ? "(none)" : kty);
    }
    if (!key) {
      read.skipped.push_back(fmt::format("{}: {}", name, why));
      continue;
    }
    set->keys.push_back(VerifyKey{kid, kind, string_member(jwk, "alg"), std::move(key)});
  }
  read.set = std::move(set);
  return read;
}

} // namespace ofwatchdog::auth
