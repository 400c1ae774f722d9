// The guest's file system: the read-only data layer, the scratch layer and its end, escapes,
// directory listings, offsets, and the bounds on descriptors.
#include "wasi_fixture.hpp"

#include <fstream>
#include <map>
#include <sstream>

using namespace ofwatchdog::wasi;
using namespace ofwatchdog::wasi::testing;
using ofwatchdog::testing::open_fd_count;

namespace {

struct FilesCase : HostCase {
  explicit FilesCase(bool with_data = true) : HostCase({{"m.wasm"}, {}}, with_data) {}

  Errno open(std::string_view path, std::uint32_t oflags, abi::Rights rights, std::uint32_t& fd,
             std::uint32_t fdflags = 0) {
    return open_path(*host, guest, kRootFd, path, oflags, rights, fd, fdflags);
  }
  Errno path_call(Function function, std::string_view path, std::uint32_t dirfd = kRootFd) {
    std::uint32_t at = guest.put(path);
    return call(*host, guest, function, {dirfd, at, path.size()});
  }
  std::string read_all(std::uint32_t fd) {
    std::string all;
    for (;;) {
      std::string piece;
      REQUIRE(read_text(*host, guest, fd, 64, piece) == Errno::success);
      if (piece.empty())
        return all;
      all += piece;
    }
  }
  // name -> type of every entry fd_readdir gives, read with a buffer of `buffer_size` bytes
  // and following the cookies.
  std::map<std::string, abi::Filetype> list(std::uint32_t fd, std::uint32_t buffer_size) {
    std::map<std::string, abi::Filetype> names;
    std::uint32_t buffer = guest.alloc(buffer_size);
    std::uint32_t used = guest.alloc(4);
    std::uint64_t cookie = 0;
    for (int rounds = 0; rounds < 100; ++rounds) {
      REQUIRE(call(*host, guest, Function::fd_readdir, {fd, buffer, buffer_size, cookie, used}) ==
              Errno::success);
      std::uint32_t end = guest.u32(used);
      std::uint32_t at = 0;
      bool complete_entry = false;
      while (at + sizeof(abi::Dirent) <= end) {
        abi::Dirent head = guest.load<abi::Dirent>(buffer + at);
        if (at + sizeof head + head.d_namlen > end)
          break; // cut short: read again from the last complete entry's cookie
        names[guest.text(buffer + at + sizeof head, head.d_namlen)] = head.d_type;
        cookie = head.d_next;
        at += sizeof head + head.d_namlen;
        complete_entry = true;
      }
      if (end < buffer_size)
        return names;
      REQUIRE(complete_entry); // the buffer holds at least one entry
    }
    FAIL("fd_readdir did not end");
    return names;
  }
};

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

TEST_CASE("fd 3 is the preopened / and describes itself", "[wasi][host][files]") {
  FilesCase c;
  std::uint32_t at = c.guest.alloc(64);
  REQUIRE(call(*c.host, c.guest, Function::fd_prestat_get, {3, at}) == Errno::success);
  CHECK(c.guest.bytes[at] == abi::kPreopenTypeDir);
  CHECK(c.guest.u32(at + 4) == 1);
  REQUIRE(call(*c.host, c.guest, Function::fd_prestat_dir_name, {3, at + 8, 1}) == Errno::success);
  CHECK(c.guest.text(at + 8, 1) == "/");
  CHECK(call(*c.host, c.guest, Function::fd_prestat_dir_name, {3, at, 0}) == Errno::nametoolong);
  CHECK(call(*c.host, c.guest, Function::fd_prestat_dir_name, {3, Guest::kSize, 1}) ==
        Errno::fault);
  CHECK(call(*c.host, c.guest, Function::fd_prestat_get, {4, at}) == Errno::badf);
  CHECK(call(*c.host, c.guest, Function::fd_prestat_get, {3, Guest::kSize - 7}) == Errno::fault);
  REQUIRE(call(*c.host, c.guest, Function::fd_fdstat_get, {3, at}) == Errno::success);
  CHECK(c.guest.load<abi::Fdstat>(at).fs_filetype == abi::Filetype::directory);
  REQUIRE(call(*c.host, c.guest, Function::fd_filestat_get, {3, at}) == Errno::success);
  CHECK(c.guest.load<abi::Filestat>(at).filetype == abi::Filetype::directory);
}

TEST_CASE("a data file opens read-only; every change to a data entry is EROFS",
          "[wasi][host][files][data]") {
  FilesCase c;
  std::uint32_t fd = 0;
  REQUIRE(c.open("hello.txt", 0, kReadRights, fd) == Errno::success);
  CHECK(fd == 4);
  CHECK(c.read_all(fd) == "hello data");
  CHECK(write_text(*c.host, c.guest, fd, "x") == Errno::notcapable);
  CHECK(call(*c.host, c.guest, Function::fd_filestat_set_size, {fd, 0}) == Errno::notcapable);

  std::uint32_t other = 0;
  CHECK(c.open("hello.txt", 0, kWriteRights, other) == Errno::rofs);
  CHECK(c.open("hello.txt", abi::kOflagTrunc, kReadRights, other) == Errno::rofs);
  CHECK(c.open("hello.txt", abi::kOflagCreat, kWriteRights, other) == Errno::rofs);
  CHECK(c.open("hello.txt", 0, kReadRights, other, abi::kFdflagAppend) == Errno::rofs);
  CHECK(c.open("sub/new.txt", abi::kOflagCreat, kWriteRights, other) == Errno::rofs);
  CHECK(c.path_call(Function::path_unlink_file, "hello.txt") == Errno::rofs);
  CHECK(c.path_call(Function::path_unlink_file, "sub/inner.txt") == Errno::rofs);
  CHECK(c.path_call(Function::path_remove_directory, "sub") == Errno::rofs);
  CHECK(c.path_call(Function::path_create_directory, "sub/more") == Errno::rofs);
  CHECK(c.path_call(Function::path_create_directory, "sub") == Errno::rofs);
  std::uint32_t from = c.guest.put("hello.txt");
  std::uint32_t to = c.guest.put("moved.txt");
  CHECK(call(*c.host, c.guest, Function::path_rename, {3, from, 9, 3, to, 9}) == Errno::rofs);

  // Through a directory descriptor of the data layer, too.
  std::uint32_t sub = 0;
  REQUIRE(c.open("sub", abi::kOflagDirectory, kAllRights, sub) == Errno::success);
  CHECK(open_path(*c.host, c.guest, sub, "inner.txt", 0, kWriteRights, other) == Errno::rofs);
  CHECK(open_path(*c.host, c.guest, sub, "x", abi::kOflagCreat, kWriteRights, other) ==
        Errno::rofs);
  CHECK(c.path_call(Function::path_unlink_file, "inner.txt", sub) == Errno::rofs);
  REQUIRE(open_path(*c.host, c.guest, sub, "inner.txt", 0, kReadRights, other) == Errno::success);
  CHECK(c.read_all(other) == "inner");

  CHECK(file_text(c.tree.data + "/hello.txt") == "hello data");
  CHECK(file_text(c.tree.data + "/sub/inner.txt") == "inner");
}

TEST_CASE("a scratch file is created, written, read back, and gone after the request",
          "[wasi][host][files][scratch]") {
  FilesCase c;
  std::uint32_t fd = 0;
  REQUIRE(c.open("out.txt", abi::kOflagCreat | abi::kOflagExcl, kWriteRights, fd) ==
          Errno::success);
  std::uint32_t written = 0;
  REQUIRE(write_text(*c.host, c.guest, fd, "scratch bytes", &written) == Errno::success);
  CHECK(written == 13);
  std::uint32_t again = 0;
  CHECK(c.open("out.txt", abi::kOflagCreat | abi::kOflagExcl, kWriteRights, again) == Errno::exist);
  REQUIRE(c.open("out.txt", 0, kReadRights, again) == Errno::success);
  CHECK(c.read_all(again) == "scratch bytes");
  CHECK(c.tree.scratch_has("out.txt"));

  REQUIRE(c.path_call(Function::path_create_directory, "dir") == Errno::success);
  REQUIRE(c.path_call(Function::path_create_directory, "dir/deeper") == Errno::success);
  REQUIRE(c.open("dir/deeper/f", abi::kOflagCreat, kWriteRights, again) == Errno::success);
  c.host.reset(); // the request ends
  CHECK_FALSE(c.tree.scratch_has("out.txt"));
  CHECK_FALSE(c.tree.scratch_has("dir"));

  // The next request sees none of it.
  c.host = std::make_unique<Host>(HostSetup{{"m.wasm"}, {}}, c.stdio, *c.sandbox);
  CHECK(c.open("out.txt", 0, kReadRights, fd) == Errno::noent);
}

TEST_CASE("each call that creates in scratch alone is enough for it to be swept",
          "[wasi][host][files][scratch]") {
  FilesCase c;
  auto how = GENERATE(as<std::string>{}, "open-create", "mkdir", "open-for-writing-fails");
  INFO(how);
  std::uint32_t fd = 0;
  if (how == "open-create") {
    REQUIRE(c.open("made", abi::kOflagCreat, kWriteRights, fd) == Errno::success);
  } else if (how == "mkdir") {
    REQUIRE(c.path_call(Function::path_create_directory, "made") == Errno::success);
  } else {
    // Nothing is created by a failed open; the sweep that follows finds nothing either.
    CHECK(c.open("absent/made", abi::kOflagCreat, kWriteRights, fd) == Errno::noent);
  }
  CHECK(c.tree.scratch_has("made") == (how != "open-for-writing-fails"));
  c.host.reset(); // the request ends
  CHECK_FALSE(c.tree.scratch_has("made"));
}

TEST_CASE("scratch files can be truncated, appended to, renamed and removed",
          "[wasi][host][files][scratch]") {
  FilesCase c;
  std::uint32_t fd = 0;
  REQUIRE(c.open("log", abi::kOflagCreat, kWriteRights, fd, abi::kFdflagAppend) == Errno::success);
  REQUIRE(write_text(*c.host, c.guest, fd, "one ") == Errno::success);
  std::uint32_t at = c.guest.alloc(8);
  REQUIRE(call(*c.host, c.guest, Function::fd_seek, {fd, 0, 0, at}) == Errno::success);
  REQUIRE(write_text(*c.host, c.guest, fd, "two") == Errno::success);
  CHECK(file_text(c.tree.scratch + "/log") == "one two");
  REQUIRE(call(*c.host, c.guest, Function::fd_filestat_set_size, {fd, 3}) == Errno::success);
  CHECK(file_text(c.tree.scratch + "/log") == "one");
  std::uint32_t stat = c.guest.alloc(sizeof(abi::Filestat));
  REQUIRE(call(*c.host, c.guest, Function::fd_filestat_get, {fd, stat}) == Errno::success);
  CHECK(c.guest.load<abi::Filestat>(stat).size == 3);
  CHECK(c.guest.load<abi::Filestat>(stat).filetype == abi::Filetype::regular_file);

  std::uint32_t from = c.guest.put("log");
  std::uint32_t to = c.guest.put("renamed");
  REQUIRE(call(*c.host, c.guest, Function::path_rename, {3, from, 3, 3, to, 7}) == Errno::success);
  CHECK(c.tree.scratch_has("renamed"));
  // Onto a data entry's name would hide it.
  std::uint32_t data_name = c.guest.put("hello.txt");
  CHECK(call(*c.host, c.guest, Function::path_rename, {3, to, 7, 3, data_name, 9}) == Errno::rofs);
  CHECK(c.path_call(Function::path_remove_directory, "renamed") == Errno::notdir);
  REQUIRE(c.path_call(Function::path_unlink_file, "renamed") == Errno::success);
  CHECK_FALSE(c.tree.scratch_has("renamed"));
  REQUIRE(c.path_call(Function::path_create_directory, "d") == Errno::success);
  CHECK(c.path_call(Function::path_create_directory, "d") == Errno::exist);
  CHECK(c.path_call(Function::path_unlink_file, "d") == Errno::isdir);
  REQUIRE(c.path_call(Function::path_remove_directory, "d/") == Errno::success);
  CHECK(c.path_call(Function::path_remove_directory, ".") == Errno::busy);
  CHECK(c.path_call(Function::path_create_directory, "./") == Errno::exist);
}

TEST_CASE("no path leads out of the sandbox", "[wasi][host][files][escape]") {
  FilesCase c;
  std::uint32_t fd = 0;
  for (std::string_view path :
       {"..", "../outside/secret.txt", "./../x", "/etc/passwd", "sub/../../outside/secret.txt",
        "escape", "absolute", "sub/../escape"}) {
    INFO(path);
    CHECK(c.open(path, 0, kReadRights, fd) == Errno::notcapable);
  }
  std::uint32_t sub = 0;
  REQUIRE(c.open("sub", abi::kOflagDirectory, kAllRights, sub) == Errno::success);
  CHECK(open_path(*c.host, c.guest, sub, "../hello.txt", 0, kReadRights, fd) == Errno::notcapable);
  CHECK(open_path(*c.host, c.guest, sub, "/hello.txt", 0, kReadRights, fd) == Errno::notcapable);
  CHECK(c.path_call(Function::path_create_directory, "../made") == Errno::notcapable);
  CHECK(c.path_call(Function::path_create_directory, "/made") == Errno::notcapable);
  CHECK(c.path_call(Function::path_unlink_file, "../outside/secret.txt") == Errno::notcapable);
  std::uint32_t stat = c.guest.alloc(sizeof(abi::Filestat));
  std::uint32_t escape = c.guest.put("escape");
  CHECK(call(*c.host, c.guest, Function::path_filestat_get,
             {3, abi::kLookupSymlinkFollow, escape, 6, stat}) == Errno::notcapable);
  // Unfollowed, the link itself is there to see; opening it unfollowed is refused.
  REQUIRE(call(*c.host, c.guest, Function::path_filestat_get, {3, 0, escape, 6, stat}) ==
          Errno::success);
  CHECK(c.guest.load<abi::Filestat>(stat).filetype == abi::Filetype::symbolic_link);
  CHECK(open_path(*c.host, c.guest, 3, "escape", 0, kReadRights, fd, 0, 0) == Errno::loop);
  // A link that stays inside is followed.
  REQUIRE(c.open("alias", 0, kReadRights, fd) == Errno::success);
  CHECK(c.read_all(fd) == "hello data");
  CHECK(::access((c.tree.dir.base + "/made").c_str(), F_OK) != 0);
  CHECK(file_text(c.tree.outside + "/secret.txt") == "secret");
}

TEST_CASE("guest paths outside memory, too long or holding NUL are refused",
          "[wasi][host][files][efault]") {
  FilesCase c;
  std::uint32_t fd_ptr = c.guest.alloc(4);
  std::uint32_t name = c.guest.put("hello.txt");
  auto open_raw = [&](std::uint64_t path, std::uint64_t len, std::uint64_t out) {
    return call(*c.host, c.guest, Function::path_open,
                {3, 1, path, len, 0, kReadRights, 0, 0, out});
  };
  CHECK(open_raw(Guest::kSize - 4, 9, fd_ptr) == Errno::fault);
  CHECK(open_raw(0xffff'fff0u, 0x20, fd_ptr) == Errno::fault);
  CHECK(open_raw(name, 9, Guest::kSize - 2) == Errno::fault);
  CHECK(open_raw(name, 0, fd_ptr) == Errno::noent);
  std::string nul("hello\0.txt", 10);
  std::uint32_t nul_path = c.guest.put(nul);
  CHECK(open_raw(nul_path, nul.size(), fd_ptr) == Errno::ilseq);
  std::string long_path(kMaxPathBytes + 1, 'a');
  std::uint32_t long_ptr = c.guest.put(long_path);
  CHECK(open_raw(long_ptr, long_path.size(), fd_ptr) == Errno::nametoolong);
  CHECK(call(*c.host, c.guest, Function::path_filestat_get, {3, 1, name, 9, Guest::kSize - 63}) ==
        Errno::fault);
  CHECK(call(*c.host, c.guest, Function::path_create_directory, {3, Guest::kSize, 1}) ==
        Errno::fault);
  std::uint32_t buffer = c.guest.alloc(64);
  CHECK(call(*c.host, c.guest, Function::fd_readdir, {3, Guest::kSize - 10, 64, 0, buffer}) ==
        Errno::fault);
  CHECK(call(*c.host, c.guest, Function::fd_readdir, {3, buffer, 64, 0, Guest::kSize}) ==
        Errno::fault);
}

TEST_CASE("fd_readdir at / lists data and scratch entries once each, across small buffers",
          "[wasi][host][files][readdir]") {
  FilesCase c;
  std::uint32_t fd = 0;
  for (std::string name : {"s1", "s2", "s3"})
    REQUIRE(c.open(name, abi::kOflagCreat, kWriteRights, fd) == Errno::success);
  REQUIRE(c.path_call(Function::path_create_directory, "sdir") == Errno::success);
  std::map<std::string, abi::Filetype> expected = {{".", abi::Filetype::directory},
                                                   {"..", abi::Filetype::directory},
                                                   {"absolute", abi::Filetype::symbolic_link},
                                                   {"alias", abi::Filetype::symbolic_link},
                                                   {"escape", abi::Filetype::symbolic_link},
                                                   {"hello.txt", abi::Filetype::regular_file},
                                                   {"sub", abi::Filetype::directory},
                                                   {"s1", abi::Filetype::regular_file},
                                                   {"s2", abi::Filetype::regular_file},
                                                   {"s3", abi::Filetype::regular_file},
                                                   {"sdir", abi::Filetype::directory}};
  for (std::uint32_t size : {4096u, 40u, 33u}) {
    INFO(size);
    CHECK(c.list(3, size) == expected);
  }
  std::uint32_t sub = 0;
  REQUIRE(c.open("sub", abi::kOflagDirectory, kAllRights, sub) == Errno::success);
  std::map<std::string, abi::Filetype> in_sub = {{".", abi::Filetype::directory},
                                                 {"..", abi::Filetype::directory},
                                                 {"inner.txt", abi::Filetype::regular_file}};
  CHECK(c.list(sub, 4096) == in_sub);
  CHECK(c.list(sub, 34) == in_sub); // "inner.txt" needs 33
  std::uint32_t file = 0;
  REQUIRE(c.open("hello.txt", 0, kReadRights, file) == Errno::success);
  std::uint32_t buffer = c.guest.alloc(64);
  CHECK(call(*c.host, c.guest, Function::fd_readdir, {file, buffer, 64, 0, buffer}) ==
        Errno::notdir);
}

TEST_CASE("without a data directory / is scratch alone", "[wasi][host][files][readdir]") {
  FilesCase c(false);
  std::uint32_t fd = 0;
  CHECK(c.open("hello.txt", 0, kReadRights, fd) == Errno::noent);
  REQUIRE(c.open("new", abi::kOflagCreat, kWriteRights, fd) == Errno::success);
  std::map<std::string, abi::Filetype> expected = {{".", abi::Filetype::directory},
                                                   {"..", abi::Filetype::directory},
                                                   {"new", abi::Filetype::regular_file}};
  CHECK(c.list(3, 4096) == expected);
}

TEST_CASE("fd_seek, fd_tell, fd_pread and fd_pwrite move and use offsets",
          "[wasi][host][files][seek]") {
  FilesCase c;
  std::uint32_t fd = 0;
  REQUIRE(c.open("f", abi::kOflagCreat, kWriteRights, fd) == Errno::success);
  REQUIRE(write_text(*c.host, c.guest, fd, "0123456789") == Errno::success);
  std::uint32_t at = c.guest.alloc(8);
  REQUIRE(call(*c.host, c.guest, Function::fd_tell, {fd, at}) == Errno::success);
  CHECK(c.guest.u64(at) == 10);
  REQUIRE(call(*c.host, c.guest, Function::fd_seek, {fd, static_cast<std::uint64_t>(-4), 2, at}) ==
          Errno::success);
  CHECK(c.guest.u64(at) == 6);
  std::string text;
  REQUIRE(read_text(*c.host, c.guest, fd, 2, text) == Errno::success);
  CHECK(text == "67");
  REQUIRE(call(*c.host, c.guest, Function::fd_seek, {fd, 1, 1, at}) == Errno::success);
  CHECK(c.guest.u64(at) == 9);
  CHECK(call(*c.host, c.guest, Function::fd_seek, {fd, static_cast<std::uint64_t>(-20), 1, at}) ==
        Errno::inval);
  CHECK(call(*c.host, c.guest, Function::fd_seek, {fd, 0, 3, at}) == Errno::inval);
  CHECK(call(*c.host, c.guest, Function::fd_seek, {fd, 0, 0, Guest::kSize - 4}) == Errno::fault);

  std::uint32_t buffer = c.guest.alloc(4);
  std::uint32_t iovs = c.guest.iovecs({{buffer, 4}});
  std::uint32_t count = c.guest.alloc(4);
  REQUIRE(call(*c.host, c.guest, Function::fd_pread, {fd, iovs, 1, 2, count}) == Errno::success);
  CHECK(c.guest.text(buffer, c.guest.u32(count)) == "2345");
  std::uint32_t patch = c.guest.put("ab");
  std::uint32_t patch_iovs = c.guest.iovecs({{patch, 2}});
  REQUIRE(call(*c.host, c.guest, Function::fd_pwrite, {fd, patch_iovs, 1, 0, count}) ==
          Errno::success);
  CHECK(c.guest.u32(count) == 2);
  REQUIRE(call(*c.host, c.guest, Function::fd_tell, {fd, at}) == Errno::success);
  CHECK(c.guest.u64(at) == 9); // positioned calls leave the offset alone
  CHECK(file_text(c.tree.scratch + "/f") == "ab23456789");
  CHECK(call(*c.host, c.guest, Function::fd_pread, {1, iovs, 1, 0, count}) == Errno::spipe);
  CHECK(call(*c.host, c.guest, Function::fd_seek, {3, 0, 0, at}) == Errno::badf);
}

TEST_CASE("path_filestat_get reports data and scratch entries", "[wasi][host][files]") {
  FilesCase c;
  std::uint32_t stat = c.guest.alloc(sizeof(abi::Filestat));
  std::uint32_t name = c.guest.put("sub/inner.txt");
  REQUIRE(call(*c.host, c.guest, Function::path_filestat_get, {3, 1, name, 13, stat}) ==
          Errno::success);
  CHECK(c.guest.load<abi::Filestat>(stat).size == 5);
  CHECK(c.guest.load<abi::Filestat>(stat).filetype == abi::Filetype::regular_file);
  std::uint32_t dot = c.guest.put(".");
  REQUIRE(call(*c.host, c.guest, Function::path_filestat_get, {3, 1, dot, 1, stat}) ==
          Errno::success);
  CHECK(c.guest.load<abi::Filestat>(stat).filetype == abi::Filetype::directory);
  std::uint32_t missing = c.guest.put("missing");
  CHECK(call(*c.host, c.guest, Function::path_filestat_get, {3, 1, missing, 7, stat}) ==
        Errno::noent);
  std::uint32_t file = 0;
  REQUIRE(c.open("hello.txt", 0, kReadRights, file) == Errno::success);
  CHECK(call(*c.host, c.guest, Function::path_filestat_get, {file, 1, dot, 1, stat}) ==
        Errno::notdir);
}

TEST_CASE("1000 open/close cycles and 10,000 requests leak no host descriptor",
          "[wasi][host][files][leak]") {
  SandboxTree tree;
  std::unique_ptr<Sandbox> sandbox = tree.open();
  ScriptedStdio stdio;
  Guest guest;
  int before = open_fd_count();
  {
    Host host({{"m.wasm"}, {}}, stdio, *sandbox);
    for (int i = 0; i < 1000; ++i) {
      guest.next = 64; // the same few addresses every time
      std::uint32_t fd = 0;
      REQUIRE(open_path(host, guest, kRootFd, "hello.txt", 0, kReadRights, fd) == Errno::success);
      REQUIRE(call(host, guest, Function::fd_close, {fd}) == Errno::success);
      std::uint32_t dir = 0;
      REQUIRE(open_path(host, guest, kRootFd, "sub", abi::kOflagDirectory, kAllRights, dir) ==
              Errno::success);
      std::uint32_t buffer = guest.alloc(256);
      std::uint32_t used = guest.alloc(4);
      REQUIRE(call(host, guest, Function::fd_readdir, {dir, buffer, 256, 0, used}) ==
              Errno::success);
      REQUIRE(call(host, guest, Function::fd_close, {dir}) == Errno::success);
    }
  }
  CHECK(open_fd_count() == before);
  for (int request = 0; request < 10000; ++request) {
    Host host({{"m.wasm"}, {}}, stdio, *sandbox);
    guest.next = 64;
    std::uint32_t fd = 0;
    REQUIRE(open_path(host, guest, kRootFd, "hello.txt", 0, kReadRights, fd) == Errno::success);
    REQUIRE(open_path(host, guest, kRootFd, "f", abi::kOflagCreat, kWriteRights, fd) ==
            Errno::success);
    // Left open: the end of the request closes them.
  }
  CHECK(open_fd_count() == before);
  CHECK_FALSE(tree.scratch_has("f"));
}

TEST_CASE("past kMaxDescriptors path_open is EMFILE, and closing one frees a number",
          "[wasi][host][files][limits]") {
  FilesCase c;
  std::uint32_t fd = 0;
  std::uint32_t opened = 0;
  Errno error = Errno::success;
  while ((error = c.open("hello.txt", 0, kReadRights, fd)) == Errno::success) {
    ++opened;
    REQUIRE(opened <= kMaxDescriptors);
  }
  CHECK(error == Errno::mfile);
  CHECK(opened == kMaxDescriptors - 4);
  // No scratch file is created by a refused open.
  CHECK(c.open("new", abi::kOflagCreat, kWriteRights, fd) == Errno::mfile);
  CHECK_FALSE(c.tree.scratch_has("new"));
  REQUIRE(call(*c.host, c.guest, Function::fd_close, {100}) == Errno::success);
  REQUIRE(c.open("hello.txt", 0, kReadRights, fd) == Errno::success);
  CHECK(fd == 100);
}
