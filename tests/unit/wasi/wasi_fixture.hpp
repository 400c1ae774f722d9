#pragma once
// What the WASI host tests share: a guest memory to write arguments into, a scripted Stdio, and
// a sandbox in a temporary directory with a small data tree.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../test_files.hpp"
#include "wasi/abi.hpp"
#include "wasi/host.hpp"

namespace ofwatchdog::wasi::testing {

using abi::Errno;

// A guest's linear memory with a bump allocator; addresses start above 0 so that a zero pointer
// is never a valid result by accident.
struct Guest {
  static constexpr std::size_t kSize = 1 << 20;
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(kSize, 0);
  std::uint32_t next = 64;

  GuestMemory memory() { return {bytes.data(), bytes.size()}; }
  std::uint32_t alloc(std::uint32_t size) {
    next = (next + 7) & ~7u;
    std::uint32_t at = next;
    next += size;
    REQUIRE(next <= kSize);
    return at;
  }
  std::uint32_t put(std::string_view text) {
    std::uint32_t at = alloc(static_cast<std::uint32_t>(text.size()));
    std::memcpy(bytes.data() + at, text.data(), text.size());
    return at;
  }
  // An array of iovecs pointing at the given (ptr, len) pairs.
  std::uint32_t iovecs(std::initializer_list<abi::Iovec> entries) {
    std::uint32_t at = alloc(static_cast<std::uint32_t>(entries.size() * sizeof(abi::Iovec)));
    std::uint32_t i = 0;
    for (const abi::Iovec& entry : entries)
      std::memcpy(bytes.data() + at + 8 * i++, &entry, sizeof entry);
    return at;
  }
  template <typename T> T load(std::uint32_t at) const {
    T value;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;
  }
  template <typename T> void store(std::uint32_t at, const T& value) {
    std::memcpy(bytes.data() + at, &value, sizeof value);
  }
  std::uint32_t u32(std::uint32_t at) const { return load<std::uint32_t>(at); }
  std::uint64_t u64(std::uint32_t at) const { return load<std::uint64_t>(at); }
  std::string text(std::uint32_t at, std::uint32_t size) const {
    return {reinterpret_cast<const char*>(bytes.data() + at), size};
  }
};

// Stdio from strings: stdin is `input` (then the end, unless `input_open`), stdout and stderr
// collect, and any call can be told to report interruption.
struct ScriptedStdio : Stdio {
  std::string input;
  std::size_t input_at = 0;
  bool input_open = false; // no end after `input`: a read past it would block
  bool interrupt = false;
  std::string out;
  std::string err;
  int reads = 0;
  int waits = 0;

  ReadResult read_stdin(std::span<std::uint8_t> buffer) override {
    ++reads;
    if (interrupt)
      return {Status::interrupted, 0};
    if (input_at == input.size()) {
      // A read that would block forever in the watchdog is cancelled there; here, too.
      return {input_open ? Status::interrupted : Status::end, 0};
    }
    std::size_t size = std::min(buffer.size(), input.size() - input_at);
    std::memcpy(buffer.data(), input.data() + input_at, size);
    input_at += size;
    return {Status::ok, size};
  }
  bool stdin_ready() override { return interrupt || input_at < input.size() || !input_open; }
  Status write_stdout(std::span<const std::uint8_t> bytes) override {
    if (interrupt)
      return Status::interrupted;
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::ok;
  }
  Status write_stderr(std::span<const std::uint8_t> bytes) override {
    if (interrupt)
      return Status::interrupted;
    err.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::ok;
  }
  WaitResult wait(bool want_stdin, Deadline deadline) override {
    ++waits;
    if (interrupt)
      return WaitResult::interrupted;
    if (want_stdin && stdin_ready())
      return WaitResult::stdin_ready;
    // Nothing will ever come: the watchdog's deadline would cancel this wait.
    if (deadline == Deadline::max())
      return WaitResult::interrupted;
    std::this_thread::sleep_until(deadline);
    return WaitResult::timed_out;
  }
};

// A temporary tree: data/ (hello.txt, sub/inner.txt, and links leading out), scratch/ and
// outside/secret.txt, which no guest path may reach.
struct SandboxTree {
  ofwatchdog::testing::TempDir dir{"wasi"};
  std::string data = dir.base + "/data";
  std::string scratch = dir.base + "/scratch";
  std::string outside = dir.base + "/outside";

  explicit SandboxTree(bool with_data = true) {
    REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
    ofwatchdog::testing::write_file(outside + "/secret.txt", "secret");
    if (!with_data)
      return;
    REQUIRE(::mkdir(data.c_str(), 0755) == 0);
    REQUIRE(::mkdir((data + "/sub").c_str(), 0755) == 0);
    ofwatchdog::testing::write_file(data + "/hello.txt", "hello data");
    ofwatchdog::testing::write_file(data + "/sub/inner.txt", "inner");
    REQUIRE(::symlink("../outside/secret.txt", (data + "/escape").c_str()) == 0);
    REQUIRE(::symlink((outside + "/secret.txt").c_str(), (data + "/absolute").c_str()) == 0);
    REQUIRE(::symlink("hello.txt", (data + "/alias").c_str()) == 0);
  }

  std::unique_ptr<Sandbox> open() {
    std::string error;
    std::unique_ptr<Sandbox> sandbox = Sandbox::open({data, scratch}, error);
    INFO(error);
    REQUIRE(sandbox != nullptr);
    return sandbox;
  }
  bool scratch_has(const std::string& name) const {
    return ::access((scratch + "/" + name).c_str(), F_OK) == 0;
  }
};

// One request's host over a fresh sandbox tree.
struct HostCase {
  explicit HostCase(HostSetup setup = {{"m.wasm"}, {}}, bool with_data = true)
      : tree(with_data), host(std::make_unique<Host>(std::move(setup), stdio, *sandbox)) {}

  SandboxTree tree;
  std::unique_ptr<Sandbox> sandbox = tree.open();
  ScriptedStdio stdio;
  Guest guest;
  std::unique_ptr<Host> host;
};

// One call; the errno it returned (the test fails if the call exited or was interrupted).
inline Errno call(Host& host, Guest& guest, Function function,
                  std::initializer_list<std::uint64_t> args) {
  std::vector<std::uint64_t> values(args);
  values.resize(10, 0);
  HostResult result = host.call(function, values.data(), guest.memory());
  REQUIRE(result.kind == HostResult::Kind::returned);
  return static_cast<Errno>(result.value);
}

inline HostResult raw_call(Host& host, Guest& guest, Function function,
                           std::initializer_list<std::uint64_t> args) {
  std::vector<std::uint64_t> values(args);
  values.resize(10, 0);
  return host.call(function, values.data(), guest.memory());
}

constexpr abi::Rights kReadRights = abi::right::fd_read | abi::right::fd_seek |
                                    abi::right::fd_tell | abi::right::fd_filestat_get |
                                    abi::right::fd_readdir;
constexpr abi::Rights kWriteRights =
    kReadRights | abi::right::fd_write | abi::right::fd_filestat_set_size;
constexpr abi::Rights kAllRights = ~abi::Rights{0};

// path_open beneath `dirfd`; the new descriptor in `fd`.
inline Errno open_path(Host& host, Guest& guest, std::uint32_t dirfd, std::string_view path,
                       std::uint32_t oflags, abi::Rights rights, std::uint32_t& fd,
                       std::uint32_t fdflags = 0,
                       std::uint32_t lookup = abi::kLookupSymlinkFollow) {
  std::uint32_t path_ptr = guest.put(path);
  std::uint32_t fd_ptr = guest.alloc(4);
  Errno error =
      call(host, guest, Function::path_open,
           {dirfd, lookup, path_ptr, path.size(), oflags, rights, kAllRights, fdflags, fd_ptr});
  fd = guest.u32(fd_ptr);
  return error;
}

// fd_write of `text` through one iovec; the count written in `written`.
inline Errno write_text(Host& host, Guest& guest, std::uint32_t fd, std::string_view text,
                        std::uint32_t* written = nullptr) {
  std::uint32_t data = guest.put(text);
  std::uint32_t iovs = guest.iovecs({{data, static_cast<std::uint32_t>(text.size())}});
  std::uint32_t count = guest.alloc(4);
  Errno error = call(host, guest, Function::fd_write, {fd, iovs, 1, count});
  if (written != nullptr)
    *written = guest.u32(count);
  return error;
}

// fd_read of at most `capacity` bytes into `text`.
inline Errno read_text(Host& host, Guest& guest, std::uint32_t fd, std::uint32_t capacity,
                       std::string& text) {
  std::uint32_t buffer = guest.alloc(capacity);
  std::uint32_t iovs = guest.iovecs({{buffer, capacity}});
  std::uint32_t count = guest.alloc(4);
  Errno error = call(host, guest, Function::fd_read, {fd, iovs, 1, count});
  text = guest.text(buffer, guest.u32(count));
  return error;
}

} // namespace ofwatchdog::wasi::testing
