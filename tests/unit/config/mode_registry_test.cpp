// Modes by name: the built-in entries, an embedder's own, and where their checks run.
#include <catch2/catch.hpp>

#include "ofwatchdog/mode_registry.hpp"

using ofwatchdog::Config;
using ofwatchdog::ConfigError;
using ofwatchdog::ModeCreation;
using ofwatchdog::ModeDescriptor;
using ofwatchdog::ModeRegistry;
using ofwatchdog::VariableLookup;
using Env = std::vector<std::string>;

namespace {

class NothingMode : public ofwatchdog::ModeStrategy {
public:
  void handle(std::shared_ptr<ofwatchdog::Exchange> exchange) override { exchange->finish(); }
};

// A mode of an embedder: no fprocess, and a variable of its own that must be a number.
ModeDescriptor counting_mode() {
  ModeDescriptor mode;
  mode.name = "counting";
  mode.runs_fprocess = false;
  mode.configure = [](const VariableLookup& variables, Config&) -> std::optional<ConfigError> {
    std::optional<std::string_view> start = variables("count_from");
    if (start && start->find_first_not_of("0123456789") != std::string_view::npos)
      return ConfigError{"count_from", "count_from must be a number", 1};
    return std::nullopt;
  };
  mode.create = [](const Config&) -> ModeCreation { return std::make_unique<NothingMode>(); };
  return mode;
}

} // namespace

TEST_CASE("the built-in modes keep the original's names and order", "[config][modes]") {
  ModeRegistry modes = ModeRegistry::builtin();
  CHECK(modes.names() ==
        std::vector<std::string>{"streaming", "serializing", "http", "static", "inproc", "wasm"});
  CHECK(modes.find("streaming")->runs_fprocess);
  CHECK_FALSE(modes.find("static")->runs_fprocess);
  CHECK(modes.find("nope") == nullptr);
  // inproc is a known name that refuses to start without a linked handler, with a reason.
  ModeCreation inproc = modes.find("inproc")->create(Config{});
  REQUIRE(std::holds_alternative<std::string>(inproc));
  CHECK_FALSE(std::get<std::string>(inproc).empty());
  CHECK(std::holds_alternative<std::unique_ptr<ofwatchdog::ModeStrategy>>(
      modes.find("wasm")->create(Config{})));
  ModeCreation streaming = modes.find("streaming")->create(Config{});
  CHECK(std::holds_alternative<std::unique_ptr<ofwatchdog::ModeStrategy>>(streaming));
}

TEST_CASE("an embedder's mode is found by name and checks its own variables", "[config][modes]") {
  ModeRegistry modes = ModeRegistry::builtin();
  modes.add(counting_mode());
  auto loaded = ofwatchdog::load_config(Env{"mode=counting", "count_from=7"}, modes);
  REQUIRE(loaded.ok()); // no fprocess needed
  CHECK(loaded.config().mode == "counting");

  auto bad = ofwatchdog::load_config(Env{"mode=counting", "count_from=seven"}, modes);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().variable == "count_from");

  // A mode's checks come after the common ones: a bad port is reported first.
  auto both = ofwatchdog::load_config(Env{"mode=counting", "count_from=x", "port=y"}, modes);
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().variable == "port");

  // The built-in registry does not know it, and says which names it knows.
  auto unknown = ofwatchdog::load_config(Env{"mode=counting"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().exit_code == 2);
  CHECK(unknown.error().message.find("expected one of streaming, serializing") !=
        std::string::npos);
  auto listed = ofwatchdog::load_config(Env{"mode=other"}, modes);
  CHECK(listed.error().message.find("wasm, counting)") != std::string::npos);
}

TEST_CASE("adding a mode of an existing name replaces it", "[config][modes]") {
  ModeRegistry modes = ModeRegistry::builtin();
  ModeDescriptor mine = counting_mode();
  mine.name = "streaming";
  modes.add(mine);
  CHECK(modes.names().size() == 6);
  CHECK_FALSE(modes.find("streaming")->runs_fprocess);
  CHECK(ofwatchdog::load_config(Env{}, modes).ok()); // the default mode no longer needs fprocess
}

TEST_CASE("the built-in modes' own checks name their variables", "[config][modes]") {
  auto http = ofwatchdog::load_config(Env{"fprocess=cat", "mode=http", "upstream_url=ftp://x"});
  REQUIRE_FALSE(http.ok());
  CHECK(http.error().variable == "upstream_url");
  auto no_url = ofwatchdog::load_config(Env{"fprocess=cat", "mode=http"});
  REQUIRE_FALSE(no_url.ok());
  CHECK(no_url.error().variable == "http_upstream_url");
  auto static_path = ofwatchdog::load_config(Env{"mode=static", "static_path="});
  REQUIRE_FALSE(static_path.ok());
  CHECK(static_path.error().variable == "static_path");
}
