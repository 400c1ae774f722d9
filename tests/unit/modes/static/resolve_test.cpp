// The static mode's file-system job (resolve.hpp), run directly: no loop, real files.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <uv.h>

#include "../../test_files.hpp"
#include "modes/static/resolve.hpp"

using namespace ofwatchdog::modes::static_files;

namespace {

using ofwatchdog::testing::open_fd_count;
using ofwatchdog::testing::TempDir;
using ofwatchdog::testing::write_file;

// <base>/www is the root; <base>/secret lies outside it.
struct ResolveTree : TempDir {
  ResolveTree() : TempDir("resolve") {
    root = base + "/www";
    REQUIRE(mkdir(root.c_str(), 0755) == 0);
    REQUIRE(mkdir((root + "/dir").c_str(), 0755) == 0);
    REQUIRE(mkdir((root + "/site").c_str(), 0755) == 0);
    write_file(root + "/site/index.html", "<p>hi</p>");
    write_file(root + "/small.txt", "hello\n");
    write_file(root + "/blob", std::string("\x01\x02\x03", 3));
    write_file(root + "/big.bin", std::string(kInlineFileBytes + 1, 'a'));
    write_file(base + "/secret", "top secret\n");
    REQUIRE(symlink((base + "/secret").c_str(), (root + "/escape").c_str()) == 0);
    REQUIRE(symlink((root + "/small.txt").c_str(), (root + "/inside").c_str()) == 0);
    REQUIRE(symlink((base + "/secret").c_str(), (root + "/dir/index.html").c_str()) == 0);
  }

  ResolveInput input(const std::string& relative, bool proc_fd = true) const {
    ResolveInput in;
    in.root = root;
    in.fs_path = root + relative;
    in.proc_fd = proc_fd;
    return in;
  }

  std::string root;
};

} // namespace

TEST_CASE("resolve: a small file comes back read and closed, with its type", "[static]") {
  ResolveTree tree;
  int before = open_fd_count();
  bool proc_fd = GENERATE(true, false);
  ResolveResult r = resolve_request(tree.input("/small.txt", proc_fd));
  CHECK(open_fd_count() == before);
  CHECK(r.resolved_root.size() > 0); // the input had no real root yet
  CHECK(r.open_error == 0);
  CHECK_FALSE(r.outside_root);
  CHECK(r.target.is_regular);
  REQUIRE(r.has_file);
  CHECK(r.file_fd == -1);
  REQUIRE(r.bytes);
  CHECK(*r.bytes == "hello\n");
  CHECK(r.file.size == 6);
  CHECK(r.content_type == "text/plain; charset=utf-8");
  CHECK(r.file.mtime.has_value());
}

TEST_CASE("resolve: unknown names are sniffed; HEAD reads no body", "[static]") {
  ResolveTree tree;
  int before = open_fd_count();
  ResolveInput in = tree.input("/blob");
  in.want_bytes = false;
  ResolveResult r = resolve_request(in);
  CHECK(open_fd_count() == before);
  CHECK_FALSE(r.bytes);
  CHECK(r.file_fd == -1);
  CHECK(r.file.size == 3);
  CHECK(r.content_type == "application/octet-stream");

  in = tree.input("/small.txt");
  in.want_bytes = false;
  r = resolve_request(in);
  CHECK_FALSE(r.bytes);
  CHECK(r.content_type == "text/plain; charset=utf-8");
  CHECK(open_fd_count() == before);
}

TEST_CASE("resolve: a large file is handed over open", "[static]") {
  ResolveTree tree;
  ResolveResult r = resolve_request(tree.input("/big.bin"));
  REQUIRE(r.has_file);
  CHECK_FALSE(r.bytes);
  REQUIRE(r.file_fd >= 0);
  CHECK(r.file.size == kInlineFileBytes + 1);
  CHECK(r.content_type == "text/plain; charset=utf-8");
  close(r.file_fd);
}

TEST_CASE("resolve: the type follows the name asked for", "[static]") {
  ResolveTree tree;
  ResolveInput in = tree.input("/inside");
  in.type_name = "page.html";
  ResolveResult r = resolve_request(in);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(r.real_path == r.resolved_root + "/small.txt");
}

TEST_CASE("resolve: outside the root, missing, and a missing root", "[static]") {
  ResolveTree tree;
  int before = open_fd_count();
  bool proc_fd = GENERATE(true, false);
  ResolveResult r = resolve_request(tree.input("/escape", proc_fd));
  CHECK(r.outside_root);
  CHECK_FALSE(r.has_file);
  r = resolve_request(tree.input("/nope", proc_fd));
  CHECK(r.open_error == UV_ENOENT);
  r = resolve_request(tree.input("/small.txt/x", proc_fd));
  CHECK(r.open_error == UV_ENOTDIR);
  ResolveInput in = tree.input("/small.txt", proc_fd);
  in.root = tree.base + "/absent";
  r = resolve_request(in);
  CHECK(r.root_missing);
  CHECK(open_fd_count() == before);
}

TEST_CASE("resolve: directories give their index.html or their entries", "[static]") {
  ResolveTree tree;
  int before = open_fd_count();
  ResolveInput in = tree.input("/site");
  in.want_index = true;
  ResolveResult r = resolve_request(in);
  CHECK(r.target.is_directory);
  REQUIRE(r.has_file);
  CHECK(*r.bytes == "<p>hi</p>");
  CHECK(r.content_type == "text/html; charset=utf-8");

  // An index.html leading outside the root is not used: the directory is listed.
  in = tree.input("/dir");
  in.want_index = true;
  r = resolve_request(in);
  CHECK_FALSE(r.has_file);
  CHECK(r.listed);
  REQUIRE(r.entries.size() == 1);
  CHECK(r.entries[0].name == "index.html");

  // Without the trailing slash the directory only redirects: nothing more is looked at.
  in = tree.input("/site");
  r = resolve_request(in);
  CHECK(r.target.is_directory);
  CHECK_FALSE(r.has_file);
  CHECK_FALSE(r.listed);
  CHECK(open_fd_count() == before);
}

TEST_CASE("resolve: a known root is used as given", "[static]") {
  ResolveTree tree;
  ResolveInput in = tree.input("/small.txt");
  in.real_root = tree.base + "/elsewhere"; // what the loop believed: the file is not under it
  ResolveResult r = resolve_request(in);
  CHECK(r.resolved_root.empty());
  CHECK(r.outside_root);
}

TEST_CASE("resolve: descriptor_real_path names the opened file", "[static]") {
  ResolveTree tree;
  std::string name = tree.root + "/inside";
  int fd = open(name.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  char* real_root = realpath(tree.root.c_str(), nullptr);
  REQUIRE(real_root != nullptr);
  std::string expected = std::string(real_root) + "/small.txt";
  std::free(real_root);
  CHECK(descriptor_real_path(fd, name, true) == expected);
  CHECK(descriptor_real_path(fd, name, false) == expected);
  close(fd);
}
