// The standard streams: iovecs gathered and scattered, the end of stdin, interruption, and
// EFAULT for every kind of bad range before any byte moves.
#include "wasi_fixture.hpp"

using namespace ofwatchdog::wasi;
using namespace ofwatchdog::wasi::testing;

namespace {

using StdioCase = HostCase;

} // namespace

TEST_CASE("fd_write gathers every iovec to stdout or stderr in order", "[wasi][host][stdio]") {
  StdioCase c;
  std::uint32_t a = c.guest.put("hello, ");
  std::uint32_t b = c.guest.put("world\n");
  std::uint32_t iovs = c.guest.iovecs({{a, 7}, {b, 0}, {b, 6}});
  std::uint32_t written = c.guest.alloc(4);
  REQUIRE(call(*c.host, c.guest, Function::fd_write, {1, iovs, 3, written}) == Errno::success);
  CHECK(c.guest.u32(written) == 13);
  CHECK(c.stdio.out == "hello, world\n");
  REQUIRE(call(*c.host, c.guest, Function::fd_write, {2, iovs, 1, written}) == Errno::success);
  CHECK(c.stdio.err == "hello, ");
  CHECK(call(*c.host, c.guest, Function::fd_write, {0, iovs, 1, written}) == Errno::notcapable);
  CHECK(call(*c.host, c.guest, Function::fd_write, {9, iovs, 1, written}) == Errno::badf);
}

TEST_CASE("fd_read scatters stdin over iovecs, then reports its end as 0 bytes",
          "[wasi][host][stdio]") {
  StdioCase c;
  c.stdio.input = "abcdefgh";
  std::uint32_t first = c.guest.alloc(3);
  std::uint32_t second = c.guest.alloc(16);
  std::uint32_t iovs = c.guest.iovecs({{first, 3}, {second, 16}});
  std::uint32_t nread = c.guest.alloc(4);
  REQUIRE(call(*c.host, c.guest, Function::fd_read, {0, iovs, 2, nread}) == Errno::success);
  CHECK(c.guest.u32(nread) == 8);
  CHECK(c.guest.text(first, 3) == "abc");
  CHECK(c.guest.text(second, 5) == "defgh");
  REQUIRE(call(*c.host, c.guest, Function::fd_read, {0, iovs, 2, nread}) == Errno::success);
  CHECK(c.guest.u32(nread) == 0);
  CHECK(call(*c.host, c.guest, Function::fd_read, {1, iovs, 2, nread}) == Errno::notcapable);
}

TEST_CASE("fd_read waits only for its first buffer: later ones take what is there",
          "[wasi][host][stdio]") {
  StdioCase c;
  c.stdio.input = "abc";
  c.stdio.input_open = true; // a read past "abc" would block
  std::uint32_t first = c.guest.alloc(3);
  std::uint32_t second = c.guest.alloc(16);
  std::uint32_t iovs = c.guest.iovecs({{first, 3}, {second, 16}});
  std::uint32_t nread = c.guest.alloc(4);
  REQUIRE(call(*c.host, c.guest, Function::fd_read, {0, iovs, 2, nread}) == Errno::success);
  CHECK(c.guest.u32(nread) == 3);
  CHECK(c.stdio.reads == 1);
}

TEST_CASE("a stream call that reports interruption ends the guest as interrupted",
          "[wasi][host][stdio]") {
  StdioCase c;
  c.stdio.input = "never read";
  c.stdio.interrupt = true;
  std::uint32_t buffer = c.guest.put("xyz");
  std::uint32_t iovs = c.guest.iovecs({{buffer, 3}});
  std::uint32_t count = c.guest.alloc(4);
  CHECK(raw_call(*c.host, c.guest, Function::fd_read, {0, iovs, 1, count}).kind ==
        HostResult::Kind::interrupted);
  CHECK(raw_call(*c.host, c.guest, Function::fd_write, {1, iovs, 1, count}).kind ==
        HostResult::Kind::interrupted);
  CHECK(raw_call(*c.host, c.guest, Function::fd_write, {2, iovs, 1, count}).kind ==
        HostResult::Kind::interrupted);
}

TEST_CASE("stdin set non-blocking answers EAGAIN instead of waiting", "[wasi][host][stdio]") {
  StdioCase c;
  c.stdio.input_open = true;
  REQUIRE(call(*c.host, c.guest, Function::fd_fdstat_set_flags, {0, abi::kFdflagNonblock}) ==
          Errno::success);
  std::string text;
  CHECK(read_text(*c.host, c.guest, 0, 8, text) == Errno::again);
  CHECK(c.stdio.reads == 0);
  std::uint32_t stat = c.guest.alloc(sizeof(abi::Fdstat));
  REQUIRE(call(*c.host, c.guest, Function::fd_fdstat_get, {0, stat}) == Errno::success);
  CHECK(c.guest.load<abi::Fdstat>(stat).fs_flags == abi::kFdflagNonblock);
}

TEST_CASE("every out-of-range guest range in fd_read and fd_write is EFAULT, with no byte moved",
          "[wasi][host][stdio][efault]") {
  StdioCase c;
  c.stdio.input = "data";
  const std::uint32_t end = Guest::kSize;
  std::uint32_t buffer = c.guest.alloc(8);
  std::uint32_t good = c.guest.iovecs({{buffer, 8}});
  std::uint32_t count = c.guest.alloc(4);
  SECTION("the iovec array past the end") {
    CHECK(call(*c.host, c.guest, Function::fd_read, {0, end - 4, 1, count}) == Errno::fault);
    CHECK(call(*c.host, c.guest, Function::fd_write, {1, end - 12, 2, count}) == Errno::fault);
  }
  SECTION("an iovec count whose array wraps 2^32") {
    CHECK(call(*c.host, c.guest, Function::fd_write, {1, good, 0x2000'0001u, count}) ==
          Errno::fault);
  }
  SECTION("a buffer starting past the end") {
    std::uint32_t bad = c.guest.iovecs({{buffer, 4}, {end, 1}});
    CHECK(call(*c.host, c.guest, Function::fd_read, {0, bad, 2, count}) == Errno::fault);
    CHECK(call(*c.host, c.guest, Function::fd_write, {1, bad, 2, count}) == Errno::fault);
  }
  SECTION("a buffer whose pointer plus length overflows 2^32") {
    std::uint32_t bad = c.guest.iovecs({{0xffff'fff0u, 0x20u}});
    CHECK(call(*c.host, c.guest, Function::fd_read, {0, bad, 1, count}) == Errno::fault);
    CHECK(call(*c.host, c.guest, Function::fd_write, {1, bad, 1, count}) == Errno::fault);
    std::uint32_t huge = c.guest.iovecs({{buffer, 0xffff'ffffu}});
    CHECK(call(*c.host, c.guest, Function::fd_write, {1, huge, 1, count}) == Errno::fault);
  }
  SECTION("the result pointer") {
    CHECK(call(*c.host, c.guest, Function::fd_read, {0, good, 1, end - 3}) == Errno::fault);
    CHECK(call(*c.host, c.guest, Function::fd_write, {1, good, 1, 0xffff'fffeu}) == Errno::fault);
  }
  CHECK(c.stdio.reads == 0);
  CHECK(c.stdio.input_at == 0);
  CHECK(c.stdio.out.empty());
}

TEST_CASE("the streams have no offset and no preopen", "[wasi][host][stdio]") {
  StdioCase c;
  std::uint32_t at = c.guest.alloc(64);
  CHECK(call(*c.host, c.guest, Function::fd_seek, {1, 0, 0, at}) == Errno::spipe);
  CHECK(call(*c.host, c.guest, Function::fd_tell, {0, at}) == Errno::spipe);
  CHECK(call(*c.host, c.guest, Function::fd_prestat_get, {1, at}) == Errno::badf);
  REQUIRE(call(*c.host, c.guest, Function::fd_fdstat_get, {1, at}) == Errno::success);
  abi::Fdstat stat = c.guest.load<abi::Fdstat>(at);
  CHECK(stat.fs_filetype == abi::Filetype::unknown);
  CHECK((stat.fs_rights_base & abi::right::fd_write) != 0);
  CHECK((stat.fs_rights_base & abi::right::fd_read) == 0);
  CHECK(call(*c.host, c.guest, Function::fd_fdstat_get, {1, Guest::kSize - 23}) == Errno::fault);
}

TEST_CASE("a closed stream is gone, and fd_renumber moves one onto another",
          "[wasi][host][stdio]") {
  StdioCase c;
  REQUIRE(call(*c.host, c.guest, Function::fd_renumber, {2, 1}) == Errno::success);
  REQUIRE(write_text(*c.host, c.guest, 1, "to stderr") == Errno::success);
  CHECK(c.stdio.err == "to stderr");
  CHECK(c.stdio.out.empty());
  CHECK(write_text(*c.host, c.guest, 2, "x") == Errno::badf);
  REQUIRE(call(*c.host, c.guest, Function::fd_close, {1}) == Errno::success);
  CHECK(call(*c.host, c.guest, Function::fd_close, {1}) == Errno::badf);
  CHECK(call(*c.host, c.guest, Function::fd_renumber, {0, 1}) == Errno::badf);
  CHECK(call(*c.host, c.guest, Function::fd_sync, {0}) == Errno::success);
  CHECK(call(*c.host, c.guest, Function::fd_datasync, {1}) == Errno::badf);
}

TEST_CASE("/dev/stdin, /dev/stdout and /dev/stderr open the request's streams",
          "[wasi][host][stdio]") {
  StdioCase c;
  c.stdio.input = "the body";
  std::uint32_t out = 0, err = 0, in = 0, other = 0;
  // As fopen("/dev/stdout", "wb") asks, once wasi-libc has found the preopen `/`: create and
  // truncate "dev/stdout" beneath fd 3.
  REQUIRE(open_path(*c.host, c.guest, 3, "dev/stdout", abi::kOflagCreat | abi::kOflagTrunc,
                    kWriteRights, out) == Errno::success);
  REQUIRE(open_path(*c.host, c.guest, 3, "dev/stderr", 0, kWriteRights, err) == Errno::success);
  REQUIRE(open_path(*c.host, c.guest, 3, "./dev/stdin", 0, kReadRights, in) == Errno::success);
  CHECK(out > 3);
  std::uint32_t text = c.guest.put("to the response");
  std::uint32_t iovs = c.guest.iovecs({{text, 15}});
  std::uint32_t count = c.guest.alloc(4);
  REQUIRE(call(*c.host, c.guest, Function::fd_write, {out, iovs, 1, count}) == Errno::success);
  REQUIRE(call(*c.host, c.guest, Function::fd_write, {err, iovs, 1, count}) == Errno::success);
  CHECK(c.stdio.out == "to the response");
  CHECK(c.stdio.err == "to the response");
  std::uint32_t buffer = c.guest.alloc(16);
  std::uint32_t read_iovs = c.guest.iovecs({{buffer, 16}});
  REQUIRE(call(*c.host, c.guest, Function::fd_read, {in, read_iovs, 1, count}) == Errno::success);
  CHECK(c.guest.text(buffer, c.guest.u32(count)) == "the body");
  // A stream has no file behind it: no reading from stdout, no seeking, and no other name of
  // /dev is one (nothing was created in scratch either).
  CHECK(call(*c.host, c.guest, Function::fd_read, {out, read_iovs, 1, count}) == Errno::notcapable);
  std::uint32_t offset = c.guest.alloc(8);
  CHECK(call(*c.host, c.guest, Function::fd_seek, {out, 0, 0, offset}) != Errno::success);
  CHECK(open_path(*c.host, c.guest, 3, "dev/null", 0, kReadRights, other) == Errno::noent);
  CHECK(call(*c.host, c.guest, Function::fd_close, {out}) == Errno::success);
  REQUIRE(call(*c.host, c.guest, Function::fd_write, {1, iovs, 1, count}) == Errno::success);
  CHECK(c.stdio.out == "to the responseto the response");
}
