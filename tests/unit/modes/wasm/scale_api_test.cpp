// The replica endpoints' documents (wasm-replica-endpoints): what /scale-updater accepts and
// /scale-reader says.
#include <catch2/catch.hpp>

#include "modes/wasm/scale_api.hpp"
#include "util/json_scanner.hpp"

using ofwatchdog::modes::read_scale_request;
using ofwatchdog::modes::ScaleRequest;
using Verdict = ScaleRequest::Verdict;

TEST_CASE("scale-updater bodies: a whole number of replicas from 1 to 65535", "[modes][wasm]") {
  auto verdict = [](const char* body) { return read_scale_request(body).verdict; };
  CHECK(read_scale_request(R"({"serviceName":"fn","replicas":3})").replicas == 3);
  CHECK(read_scale_request(R"( { "REPLICAS" : 65535 } )").replicas == 65535);
  // Other members of any kind are skipped; the last "replicas" counts.
  CHECK(read_scale_request(R"({"a":{"b":[1,"x",null,true]},"replicas":1,"Replicas":2})").replicas ==
        2);
  for (const char* bad : {"", "{", "[]", "3", R"({"replicas":0})", R"({"replicas":-1})",
                          R"({"replicas":1.5})", R"({"replicas":1e2})", R"({"replicas":"3"})",
                          R"({"replicas":007})", R"({"serviceName":"fn"})", R"({"replicas":3} x)",
                          R"({"replicas":3,})", R"({"replicas":18446744073709551616})"}) {
    INFO(bad);
    CHECK(verdict(bad) == Verdict::malformed);
  }
  CHECK(verdict(R"({"replicas":65536})") == Verdict::too_many);
  CHECK(verdict(R"({"replicas":18446744073709551615})") == Verdict::too_many);
}

TEST_CASE("scale-reader's document has every field, the name escaped", "[modes][wasm]") {
  CHECK(ofwatchdog::modes::scale_reader_json({"fn.wasm", 2, 0}) ==
        R"({"envProcess":"fn.wasm","replicas":2,"availableReplicas":0})");
  CHECK(ofwatchdog::modes::scale_reader_json({"a\"b\\c", 1, 1}) ==
        R"({"envProcess":"a\"b\\c","replicas":1,"availableReplicas":1})");
}

TEST_CASE("JsonScanner: numbers and skipped values are JSON's", "[util][json]") {
  ofwatchdog::JsonScanner numbers("-12.5e+3 0 01");
  CHECK(numbers.read_number() == "-12.5e+3");
  numbers.skip_space();
  CHECK(numbers.read_number() == "0");
  numbers.skip_space();
  CHECK_FALSE(numbers.read_number()); // a leading zero
  for (const char* good : {"[]", "{}", R"({"a":[1,{"b":null}]})", "true", R"("\u00e9")"}) {
    ofwatchdog::JsonScanner json(good);
    CHECK(json.skip_value());
    CHECK(json.at_end());
  }
  for (const char* bad : {"[1,]", R"({"a"})", "tru", R"({1:2})", "[", R"("\ud800")"}) {
    ofwatchdog::JsonScanner json(bad);
    INFO(bad);
    CHECK_FALSE((json.skip_value() && json.at_end()));
  }
}
