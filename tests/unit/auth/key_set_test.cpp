// Key sets read into OpenSSL keys: what is kept, what is left out and why.
#include <catch2/catch.hpp>

#include "auth/base64url.hpp"
#include "auth/key_set.hpp"
#include "test_keys.hpp"

using namespace ofwatchdog::auth;
using nlohmann::json;
using ofwatchdog::auth::testing::TestKey;

TEST_CASE("base64url decodes without padding and refuses what is not base64url", "[auth]") {
  CHECK(decode_base64url("") == std::string());
  CHECK(decode_base64url("YQ") == std::string("a"));
  CHECK(decode_base64url("YWI") == std::string("ab"));
  CHECK(decode_base64url("YWJj") == std::string("abc"));
  CHECK(decode_base64url("-_8") == std::string("\xfb\xff"));
  CHECK_FALSE(decode_base64url("YQ=="));
  CHECK_FALSE(decode_base64url("Y"));
  CHECK_FALSE(decode_base64url("YW+j"));
  CHECK_FALSE(decode_base64url("YW j"));
}

TEST_CASE("a key set keeps the signing keys of every supported type", "[auth]") {
  json keys = json::array();
  for (auto [type, kid] :
       {std::pair{"RSA", "r"}, std::pair{"P-256", "e256"}, std::pair{"P-384", "e384"},
        std::pair{"P-521", "e521"}, std::pair{"Ed25519", "ed"}})
    keys.push_back(TestKey::make(type, kid).jwk());
  keys[0]["use"] = "sig";
  keys[0]["alg"] = "RS256";
  KeySetRead read = read_key_set(json{{"keys", keys}}.dump());
  REQUIRE(read.set);
  CHECK(read.skipped.empty());
  CHECK(read.set->kid_list() == "r, e256, e384, e521, ed");
  CHECK(read.set->find("r", KeyKind::rsa, "RS256"));
  CHECK_FALSE(read.set->find("r", KeyKind::rsa, "PS256")); // the key names its algorithm
  CHECK(read.set->find("e384", KeyKind::ec_p384, "ES384"));
  CHECK_FALSE(read.set->find("e384", KeyKind::ec_p256, "ES256"));
  CHECK(read.set->find("ed", KeyKind::ed25519, "EdDSA"));
  CHECK(read.set->has_kid("e521"));
  CHECK_FALSE(read.set->has_kid("nope"));
}

TEST_CASE("keys that cannot verify a token safely are left out with a reason", "[auth]") {
  json good = TestKey::make("P-256", "ok").jwk();
  json off_curve = good;
  off_curve["kid"] = "off";
  off_curve["y"] = good["x"]; // (x, x) is not on the curve
  json short_x = good;
  short_x["kid"] = "short";
  short_x["x"] = "AQ";
  json encryption = good;
  encryption["kid"] = "enc";
  encryption["use"] = "enc";
  json no_kid = good;
  no_kid.erase("kid");
  json symmetric = {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};
  json small_rsa = TestKey::make("RSA", "small", 1024).jwk();
  KeySetRead read = read_key_set(
      json{{"keys", {good, off_curve, short_x, encryption, no_kid, symmetric, small_rsa, 5}}}
          .dump());
  REQUIRE(read.set);
  CHECK(read.set->kid_list() == "ok");
  REQUIRE(read.skipped.size() == 7);
  CHECK(read.skipped[0].find("key off") == 0);
  CHECK(read.skipped[1].find("x and y of 32 bytes") != std::string::npos);
  CHECK(read.skipped[2].find("use enc") != std::string::npos);
  CHECK(read.skipped[3].find("no kid") != std::string::npos);
  CHECK(read.skipped[4].find("kty oct") != std::string::npos);
  CHECK(read.skipped[5].find("1024 bits") != std::string::npos);
  CHECK(read.skipped[6].find("not a JSON object") != std::string::npos);
}

TEST_CASE("a document that is not a key set is refused", "[auth]") {
  CHECK_FALSE(read_key_set("").set);
  CHECK_FALSE(read_key_set("[]").set);
  CHECK_FALSE(read_key_set("{\"keys\": {}}").set);
  CHECK(read_key_set("{\"keys\": {}}").error.find("\"keys\" array") != std::string::npos);
  CHECK_FALSE(read_key_set("{\"keys\": [], \"keys\": []}").set); // a name given twice
  std::string deep(100, '[');
  CHECK_FALSE(read_key_set("{\"keys\": [" + deep + "]}").set);
  CHECK(read_key_set("{\"keys\": []}").set);
}
