// The claims a verified token must carry: time, issuer, audience and the function's grants.
#include <catch2/catch.hpp>

#include "auth/claims_check.hpp"

using nlohmann::json;
using ofwatchdog::auth::check_claims;
using ofwatchdog::auth::ClaimsPolicy;
using ofwatchdog::auth::Denial;
using ofwatchdog::auth::matches_pattern;

namespace {

const ClaimsPolicy kPolicy{"https://gw.example", "prod:resize", 1.0};
constexpr double kNow = 1'800'000'000.0;

json good_claims() {
  return {{"iss", "https://gw.example"},
          {"aud", json::array({"https://gw.example"})},
          {"exp", kNow + 60},
          {"nbf", kNow - 60},
          {"function", {{"permissions", json::array({"prod:resize"})}}}};
}

} // namespace

TEST_CASE("a pattern matches the whole target, * standing for any run", "[auth]") {
  CHECK(matches_pattern("prod:resize", "prod:resize"));
  CHECK_FALSE(matches_pattern("prod:resize", "prod:resize2"));
  CHECK_FALSE(matches_pattern("prod:resiz", "prod:resize"));
  CHECK_FALSE(matches_pattern("rod:resize", "prod:resize"));
  CHECK(matches_pattern("*", "prod:resize"));
  CHECK(matches_pattern("*", ""));
  CHECK(matches_pattern("prod:*", "prod:resize"));
  CHECK(matches_pattern("*:resize", "prod:resize"));
  CHECK(matches_pattern("p*d:r*e", "prod:resize"));
  CHECK(matches_pattern("**:**", "prod:resize"));
  CHECK_FALSE(matches_pattern("dev:*", "prod:resize"));
  CHECK_FALSE(matches_pattern("*:resizer", "prod:resize"));
  CHECK_FALSE(matches_pattern("", "prod:resize"));
  // Backtracking past a partial match after a star.
  CHECK(matches_pattern("*aab", "aaaab"));
  CHECK_FALSE(matches_pattern("*aab", "aaaaba"));
}

TEST_CASE("claims that grant the function admit it", "[auth]") {
  CHECK_FALSE(check_claims(good_claims(), kPolicy, kNow));
  json c = good_claims();
  c["aud"] = "https://gw.example"; // a single audience may be a string
  c.erase("exp");
  c.erase("nbf");
  CHECK_FALSE(check_claims(c, kPolicy, kNow));
}

TEST_CASE("the time claims hold with one second of leeway", "[auth]") {
  json c = good_claims();
  c["exp"] = kNow - 0.5;
  CHECK_FALSE(check_claims(c, kPolicy, kNow));
  c["exp"] = kNow - 1;
  CHECK(check_claims(c, kPolicy, kNow) == Denial::expired);
  c = good_claims();
  c["nbf"] = kNow + 1;
  CHECK_FALSE(check_claims(c, kPolicy, kNow));
  c["nbf"] = kNow + 2;
  CHECK(check_claims(c, kPolicy, kNow) == Denial::not_yet_valid);
  c["nbf"] = "soon";
  CHECK(check_claims(c, kPolicy, kNow) == Denial::malformed);
}

TEST_CASE("the issuer must be the provider's and the audience must hold it", "[auth]") {
  json c = good_claims();
  c["iss"] = "https://other.example";
  CHECK(check_claims(c, kPolicy, kNow) == Denial::issuer);
  c.erase("iss");
  CHECK(check_claims(c, kPolicy, kNow) == Denial::issuer);
  c = good_claims();
  c["aud"] = json::array({"https://other.example"});
  CHECK(check_claims(c, kPolicy, kNow) == Denial::audience);
  c.erase("aud");
  CHECK(check_claims(c, kPolicy, kNow) == Denial::audience);
}

TEST_CASE("the function claim must grant this function", "[auth]") {
  json c = good_claims();
  c["function"]["permissions"] = json::array({"prod:other", "dev:*"});
  CHECK(check_claims(c, kPolicy, kNow) == Denial::permissions);
  c["function"]["permissions"] = json::array({"prod:other", "prod:*"});
  CHECK_FALSE(check_claims(c, kPolicy, kNow));
  c["function"]["permissions"] = json::array();
  CHECK(check_claims(c, kPolicy, kNow) == Denial::permissions);
  c["function"].erase("permissions");
  CHECK(check_claims(c, kPolicy, kNow) == Denial::permissions);

  c = good_claims();
  c["function"]["audience"] = json::array({"dev:*"});
  CHECK(check_claims(c, kPolicy, kNow) == Denial::permissions);
  c["function"]["audience"] = json::array({"*:resize"});
  CHECK_FALSE(check_claims(c, kPolicy, kNow));
  c["function"]["audience"] = json::array(); // an empty audience restricts nothing
  CHECK_FALSE(check_claims(c, kPolicy, kNow));
  c["function"]["audience"] = json::array({7});
  CHECK(check_claims(c, kPolicy, kNow) == Denial::permissions);

  c = good_claims();
  c.erase("function");
  CHECK(check_claims(c, kPolicy, kNow) == Denial::permissions);
}
