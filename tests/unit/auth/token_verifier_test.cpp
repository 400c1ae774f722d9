// Tokens taken apart and their signatures checked, for every accepted algorithm, and the
// forgeries that must fail.
#include <catch2/catch.hpp>

#include "auth/token_verifier.hpp"
#include "test_keys.hpp"

using namespace ofwatchdog::auth;
using nlohmann::json;
using ofwatchdog::auth::testing::base64url;
using ofwatchdog::auth::testing::TestKey;

namespace {

const json kClaims = {{"iss", "https://gw.example"}, {"sub", "someone"}};

// The denial of `token` against `keys`, or nothing when its signature verifies.
std::optional<Denial> outcome(const std::string& token, const KeySet& keys) {
  std::variant<ParsedToken, Denial> parsed = parse_token(token);
  if (auto* denial = std::get_if<Denial>(&parsed))
    return *denial;
  return verify_token_signature(std::get<ParsedToken>(parsed), keys);
}

std::shared_ptr<const KeySet> set_of(std::initializer_list<const TestKey*> keys) {
  json list = json::array();
  for (const TestKey* k : keys)
    list.push_back(k->jwk());
  return read_key_set(json{{"keys", list}}.dump()).set;
}

} // namespace

TEST_CASE("the bearer scheme is read in any case", "[auth]") {
  CHECK(bearer_token("Bearer abc") == std::string_view("abc"));
  CHECK(bearer_token("bearer  abc ") == std::string_view("abc"));
  CHECK(bearer_token("BEARER\tabc") == std::string_view("abc"));
  CHECK_FALSE(bearer_token("Bearer"));
  CHECK_FALSE(bearer_token("Bearer "));
  CHECK_FALSE(bearer_token("Bearerabc"));
  CHECK_FALSE(bearer_token("Basic abc"));
}

TEST_CASE("every asymmetric algorithm verifies with a key of its kind", "[auth]") {
  TestKey rsa = TestKey::make("RSA", "rsa");
  TestKey p256 = TestKey::make("P-256", "p256");
  TestKey p384 = TestKey::make("P-384", "p384");
  TestKey p521 = TestKey::make("P-521", "p521");
  TestKey ed = TestKey::make("Ed25519", "ed");
  auto keys = set_of({&rsa, &p256, &p384, &p521, &ed});
  REQUIRE(keys);
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
    INFO(alg);
    CHECK_FALSE(outcome(rsa.sign(alg, kClaims), *keys));
  }
  CHECK_FALSE(outcome(p256.sign("ES256", kClaims), *keys));
  CHECK_FALSE(outcome(p384.sign("ES384", kClaims), *keys));
  CHECK_FALSE(outcome(p521.sign("ES512", kClaims), *keys));
  CHECK_FALSE(outcome(ed.sign("EdDSA", kClaims), *keys));

  // A key of the right name but the wrong kind for the algorithm is no key at all.
  CHECK(outcome(p256.sign("ES256", kClaims, {{"kid", "p384"}}), *keys) == Denial::unknown_key);
  CHECK(outcome(rsa.sign("RS256", kClaims, {{"kid", "nobody"}}), *keys) == Denial::unknown_key);
  // Signed by another key under a known name.
  TestKey other = TestKey::make("RSA", "rsa");
  CHECK(outcome(other.sign("RS256", kClaims), *keys) == Denial::signature);
  CHECK(outcome(other.sign("PS256", kClaims), *keys) == Denial::signature);
}

TEST_CASE("a changed token does not verify", "[auth]") {
  TestKey ed = TestKey::make("Ed25519", "ed");
  TestKey p256 = TestKey::make("P-256", "p256");
  auto keys = set_of({&ed, &p256});
  std::string token = ed.sign("EdDSA", kClaims);
  std::size_t dot = token.find('.');
  std::string changed = token.substr(0, dot + 1) + base64url(json{{"iss", "x"}}.dump()) +
                        token.substr(token.rfind('.'));
  CHECK(outcome(changed, *keys) == Denial::signature);
  std::string es = p256.sign("ES256", kClaims);
  // A character in the middle of the signature: the last one may carry only padding bits.
  char& c = es[es.rfind('.') + 10];
  c = c == 'A' ? 'B' : 'A';
  CHECK(outcome(es, *keys) == Denial::signature);
  // An ECDSA signature of the wrong length.
  CHECK(outcome(es.substr(0, es.rfind('.') + 1) + base64url(std::string(63, '\1')), *keys) ==
        Denial::signature);
}

TEST_CASE("unsigned, symmetric and malformed tokens are refused before any key", "[auth]") {
  std::string claims = base64url(kClaims.dump());
  auto header = [](const json& h) { return base64url(h.dump()); };
  CHECK(outcome(header({{"alg", "none"}, {"kid", "rsa"}}) + "." + claims + ".", KeySet{}) ==
        Denial::algorithm);
  CHECK(outcome(header({{"alg", "HS256"}, {"kid", "rsa"}}) + "." + claims + ".c2ln", KeySet{}) ==
        Denial::algorithm);
  CHECK(outcome(header({{"alg", "RS256"}}) + "." + claims + ".c2ln", KeySet{}) ==
        Denial::malformed); // no kid
  CHECK(
      outcome(header({{"alg", "RS256"}, {"kid", "k"}, {"crit", {"exp"}}}) + "." + claims + ".c2ln",
              KeySet{}) == Denial::malformed);
  CHECK(outcome("abc", KeySet{}) == Denial::malformed);
  CHECK(outcome("a.b.c.d", KeySet{}) == Denial::malformed);
  CHECK(outcome(header({{"alg", "RS256"}, {"kid", "k"}}) + ".bm90IGpzb24.c2ln", KeySet{}) ==
        Denial::malformed);
  CHECK(outcome(header({{"alg", "RS256"}, {"kid", "k"}}) + "." + claims + ".", KeySet{}) ==
        Denial::malformed); // no signature
  CHECK(outcome(std::string(kMaxTokenBytes + 1, 'a'), KeySet{}) == Denial::too_large);
}
