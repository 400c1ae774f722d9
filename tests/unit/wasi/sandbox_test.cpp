// Sandbox on its own: opening the two layers, and emptying scratch however deep it goes.
#include "wasi_fixture.hpp"

#include "wasi/sandbox_file.hpp"

#include <fstream>

using namespace ofwatchdog::wasi;
using namespace ofwatchdog::wasi::testing;

TEST_CASE("Sandbox::open creates scratch, empties what is left in it, and allows no data",
          "[wasi][sandbox]") {
  SandboxTree tree(false);
  REQUIRE(::mkdir(tree.scratch.c_str(), 0700) == 0);
  ofwatchdog::testing::write_file(tree.scratch + "/stale", "from a crash");
  std::unique_ptr<Sandbox> sandbox = tree.open();
  CHECK(sandbox->data_fd() < 0);
  CHECK_FALSE(sandbox->has_data_entry("anything"));
  CHECK_FALSE(tree.scratch_has("stale"));
}

TEST_CASE("Sandbox::open names the directory it cannot make", "[wasi][sandbox]") {
  SandboxTree tree;
  std::string error;
  CHECK(Sandbox::open({tree.data, tree.dir.base + "/missing/scratch"}, error) == nullptr);
  CHECK(error.find("/missing/scratch") != std::string::npos);
}

TEST_CASE("Sandbox::reset empties scratch at any depth and leaves data alone", "[wasi][sandbox]") {
  SandboxTree tree;
  std::unique_ptr<Sandbox> sandbox = tree.open();
  CHECK(sandbox->has_data_entry("hello.txt"));
  CHECK(sandbox->has_data_entry("escape")); // a link counts as itself
  std::string path = tree.scratch;
  for (int i = 0; i < 50; ++i) {
    path += "/d";
    REQUIRE(::mkdir(path.c_str(), 0755) == 0);
    ofwatchdog::testing::write_file(path + "/f", "x");
  }
  ofwatchdog::testing::write_file(tree.scratch + "/top", "x");
  REQUIRE(::mkdir((tree.scratch + "/empty").c_str(), 0755) == 0);
  sandbox->note_change(); // what the host does before each call that may create
  CHECK(sandbox->reset());
  CHECK_FALSE(tree.scratch_has("d"));
  CHECK_FALSE(tree.scratch_has("top"));
  CHECK_FALSE(tree.scratch_has("empty"));
  CHECK(::access((tree.data + "/hello.txt").c_str(), F_OK) == 0);
  CHECK(sandbox->reset()); // already empty
}

TEST_CASE("Sandbox::reset lists nothing until a change is noted", "[wasi][sandbox]") {
  SandboxTree tree;
  std::unique_ptr<Sandbox> sandbox = tree.open();
  // Only the host creates in scratch, and it notes each call first; a file put there behind
  // its back shows that an unnoted reset did not look.
  ofwatchdog::testing::write_file(tree.scratch + "/unnoted", "x");
  CHECK(sandbox->reset());
  CHECK(tree.scratch_has("unnoted"));
  sandbox->note_change();
  CHECK(sandbox->reset());
  CHECK_FALSE(tree.scratch_has("unnoted"));
}

TEST_CASE("read_sandbox_file reads as the guest's own open would, and no further",
          "[wasi][sandbox]") {
  SandboxTree tree;
  std::unique_ptr<Sandbox> sandbox = tree.open();
  auto text = [](const std::variant<std::string, abi::Errno>& read) {
    return std::holds_alternative<std::string>(read)
               ? std::get<std::string>(read)
               : "errno " + std::to_string(static_cast<int>(std::get<abi::Errno>(read)));
  };
  CHECK(text(read_sandbox_file(*sandbox, "hello.txt", 100)) == "hello data");
  CHECK(text(read_sandbox_file(*sandbox, "/sub/inner.txt", 100)) == "inner");
  CHECK(text(read_sandbox_file(*sandbox, "alias", 100)) == "hello data");
  CHECK(std::get<abi::Errno>(read_sandbox_file(*sandbox, "hello.txt", 4)) == abi::Errno::fbig);
  CHECK(std::get<abi::Errno>(read_sandbox_file(*sandbox, "missing", 100)) == abi::Errno::noent);
  CHECK(std::get<abi::Errno>(read_sandbox_file(*sandbox, "sub", 100)) == abi::Errno::isdir);
  for (const char* out : {"../outside/secret.txt", "escape", "absolute", "sub/../../outside"}) {
    INFO(out);
    CHECK(std::holds_alternative<abi::Errno>(read_sandbox_file(*sandbox, out, 100)));
  }
}
