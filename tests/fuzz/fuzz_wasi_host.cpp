// Fuzz target: the WASI host (wasi/host.hpp) under sequences of calls a broken or hostile module
// could make, with arguments no compiler would produce.
//
// The guest's memory is one wasm page placed between two PROT_NONE pages, so a host read or
// write past either end of the GuestMemory span faults at once instead of going unnoticed (ASan
// does not watch mmap'd memory). Each input starts from the same memory image, which already
// holds paths, iovecs and poll subscriptions at known addresses, so that random calls reach past
// the first argument check; the input can overwrite any of it.
//
// Input layout:
//   byte 0   flags: bit 0 stdin stays open after its bytes (a read past them would block, and
//            the request's deadline then cancels it); bits 1-2 how many waits wake early before
//            one is cancelled; bits 3-4 cancel the request at the 1st, 3rd or 9th stream call
//            (0: never); bit 5 a process with no arguments or environment; bits 5-7 all set
//            also a memory of zero bytes;
//   byte 1   n, then n bytes: the request body the guest reads on stdin;
//   the rest operations: a byte picks a function of wasi_functions.def (modulo their count) or
//            one of two memory writes; a call then takes one value per parameter (see
//            `next_value`). At most kMaxCalls calls; proc_exit or an interruption ends the input.
//
// Invariants (a broken one aborts, which libFuzzer reports):
// - no host access outside guest memory (the guard pages), no crash, no sanitizer report;
// - a returned value is a WASI errno; only proc_exit exits; a call is interrupted only after
//   Stdio reported the cancellation;
// - once the Host is destroyed: the process holds as many descriptors as before the input, the
//   scratch directory is empty, and the data directory and the rest of the tree (outside/, which
//   no guest path may reach) are exactly as they were when the process started.
//
// The sandbox tree and the Sandbox are made once per process, as a slot's sandbox outlives its
// requests in the watchdog; a new Host per input is what a new request gets.

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wasi/abi.hpp"
#include "wasi/host.hpp"
#include "wasm/wasi_signatures.hpp"

namespace {

namespace wasi = ofwatchdog::wasi;
namespace abi = wasi::abi;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "fuzz_wasi_host: invariant broken: %s\n", what);
  std::abort();
}

// One wasm page: small, so that a random 16-bit pointer is always inside and a random length
// often runs off the end.
constexpr std::uint64_t kMemorySize = 64 * 1024;
constexpr int kMaxCalls = 64;
// The widest function (path_open) has nine parameters; Host::call reads no further.
constexpr std::size_t kMaxParams = 10;
// WASI preview1's errno values run from 0 (success) to 76 (notcapable).
constexpr std::uint32_t kLargestErrno = static_cast<std::uint32_t>(abi::Errno::notcapable);

// Operation numbers past the functions.
constexpr std::uint32_t kPokeBytes = wasi::kFunctionCount;
constexpr std::uint32_t kPokeValue = wasi::kFunctionCount + 1;
constexpr std::uint32_t kOperationCount = wasi::kFunctionCount + 2;

// The input, read front to back; past its end every byte reads as zero.
class InputReader {
public:
  InputReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint64_t little_endian(int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
      value |= std::uint64_t{byte()} << (8 * i);
    return value;
  }
  std::span<const std::uint8_t> take(std::size_t count) {
    count = std::min(count, size_ - std::min(at_, size_));
    std::span<const std::uint8_t> taken(data_ + std::min(at_, size_), count);
    at_ += count;
    return taken;
  }

private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// Paths the sandbox tree gives a meaning to: data entries and the links in it, names that land
// in scratch, steps out, and the malformed ones (NUL, empty, trailing '/', too long).
const std::vector<std::string>& paths() {
  static const std::vector<std::string> list = {
      "hello.txt",
      "sub",
      "sub/inner.txt",
      "alias",
      "escape",
      "absolute",
      "new.txt",
      "dir",
      "dir/new.txt",
      "dir/deeper",
      ".",
      "..",
      "/",
      "/hello.txt",
      "../outside/secret.txt",
      "sub/..",
      "sub/../..",
      "dir/../new.txt",
      "missing/x",
      std::string("nul\0byte", 8),
      "",
      "hello.txt/",
      "new.txt/x",
      "dir/../../outside",
      std::string(4097, 'a'),
  };
  return list;
}

// Values that sit on a boundary the host checks: pointers and lengths at the end of memory,
// 32-bit and 64-bit extremes (and an fd widened with ones, whose low half is still 3), the
// limits on iovecs, paths and descriptors, rights masks and a scratch readdir cookie.
constexpr std::uint64_t kSpecialValues[] = {
    0,
    1,
    0x7fff'ffff,
    0x8000'0000,
    0xffff'ffff,
    0xffff'fffe,
    kMemorySize,
    kMemorySize - 1,
    kMemorySize - 4,
    kMemorySize - 8,
    kMemorySize - 24,
    kMemorySize - 48,
    kMemorySize + 1,
    0x1'0000'0000,
    0xffff'ffff'0000'0003,
    ~std::uint64_t{0},
    0x7fff'ffff'ffff'ffff,
    0x8000'0000'0000'0000,
    0x8000'0000'0000'0002,
    1024,
    1025,
    4096,
    4097,
    kMemorySize / sizeof(abi::Subscription),
    abi::right::fd_read | abi::right::fd_seek | abi::right::fd_tell | abi::right::fd_readdir |
        abi::right::fd_filestat_get | abi::right::poll_fd_readwrite,
    abi::right::fd_read | abi::right::fd_write | abi::right::fd_seek |
        abi::right::fd_filestat_set_size | abi::right::poll_fd_readwrite,
    abi::right::path_open | abi::right::path_create_file | abi::right::path_create_directory |
        abi::right::fd_readdir | abi::right::path_rename_source | abi::right::path_rename_target,
    abi::kOflagCreat | abi::kOflagExcl,
    abi::kOflagCreat | abi::kOflagTrunc,
    1'000'000,
    1'000'000'000'000,
};

// The memory every input starts from, and the addresses of what is in it.
struct MemoryImage {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(kMemorySize, 0);
  std::vector<std::uint32_t> path_at;
  std::vector<std::uint32_t> addresses; // iovec arrays, subscriptions, buffers
  std::uint32_t next = 64;              // the first 64 bytes stay zero, as a null page

  std::uint32_t alloc(std::size_t size) {
    next = (next + 7) & ~7u;
    std::uint32_t at = next;
    next += static_cast<std::uint32_t>(size);
    if (next > kMemorySize)
      violated("the memory image does not fit in the guest memory");
    return at;
  }
  template <typename T> std::uint32_t put(const T& value) {
    std::uint32_t at = alloc(sizeof value);
    std::memcpy(bytes.data() + at, &value, sizeof value);
    return at;
  }

  MemoryImage() {
    for (const std::string& path : paths()) {
      std::uint32_t at = alloc(path.size());
      std::memcpy(bytes.data() + at, path.data(), path.size());
      path_at.push_back(at);
    }
    // A buffer with text in it, for writes, and room for whatever the host writes back.
    std::uint32_t text = alloc(512);
    for (std::uint32_t i = 0; i < 512; ++i)
      bytes[text + i] = static_cast<std::uint8_t>("written by the guest\n"[i % 21]);
    std::uint32_t output = alloc(4096);
    addresses = {text, text + 256, output, output + 1, output + 2048};

    using Iovecs = std::vector<abi::Iovec>;
    const auto end = static_cast<std::uint32_t>(kMemorySize);
    for (const Iovecs& iovecs : {
             Iovecs{{text, 21}},
             Iovecs{{text, 256}, {text + 256, 256}},
             Iovecs{{output, 4096}},
             Iovecs{{end - 16, 16}},
             Iovecs{{end - 8, 16}},
             Iovecs{{text, 0}, {output, 8}, {output + 8, 4088}},
             Iovecs{{0xffff'fff0, 0x20}},
         }) {
      std::uint32_t at = alloc(iovecs.size() * sizeof(abi::Iovec));
      std::memcpy(bytes.data() + at, iovecs.data(), iovecs.size() * sizeof(abi::Iovec));
      addresses.push_back(at);
    }

    // Subscriptions back to back, so that a start address and a count pick a run of them.
    auto clock = [](abi::ClockId id, std::uint64_t timeout, std::uint16_t flags) {
      abi::Subscription subscription{};
      subscription.tag = abi::EventType::clock;
      subscription.u.clock.id = id;
      subscription.u.clock.timeout = timeout;
      subscription.u.clock.flags = flags;
      return subscription;
    };
    auto on_fd = [](abi::EventType type, std::uint32_t fd) {
      abi::Subscription subscription{};
      subscription.tag = type;
      subscription.u.fd = fd;
      return subscription;
    };
    abi::Subscription odd_tag{};
    odd_tag.tag = static_cast<abi::EventType>(5);
    const abi::Subscription subscriptions[] = {
        clock(abi::ClockId::monotonic, 0, 0),
        on_fd(abi::EventType::fd_read, 0),
        on_fd(abi::EventType::fd_write, 1),
        clock(abi::ClockId::realtime, 0, abi::kSubclockAbstime),
        clock(abi::ClockId::monotonic, 10'000'000'000, 0),
        on_fd(abi::EventType::fd_read, 4),
        clock(static_cast<abi::ClockId>(9), 0, 0),
        odd_tag,
        on_fd(abi::EventType::fd_read, 3),
        clock(abi::ClockId::process_cputime, 1'000'000, 0),
        clock(abi::ClockId::thread_cputime, ~std::uint64_t{0}, abi::kSubclockAbstime),
    };
    for (std::size_t i = 0; i < std::size(subscriptions); ++i) {
      abi::Subscription subscription = subscriptions[i];
      subscription.userdata = 0x1000 + i;
      addresses.push_back(put(subscription));
    }
    if (addresses.size() > 32)
      violated("more template addresses than a selector byte can name");
  }
};

// The guest memory between its guard pages, mapped once per process.
class GuardedMemory {
public:
  GuardedMemory() {
    page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    if (kMemorySize % page_ != 0)
      violated("the guest memory is not a whole number of pages");
    std::size_t length = kMemorySize + 2 * page_;
    void* mapped =
        ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
      violated("cannot map the guest memory");
    base_ = static_cast<std::uint8_t*>(mapped);
    if (::mprotect(base_, page_, PROT_NONE) != 0 ||
        ::mprotect(base_ + page_ + kMemorySize, page_, PROT_NONE) != 0)
      violated("cannot protect the guard pages");
  }
  std::uint8_t* data() const { return base_ + page_; }
  // A memory of zero bytes sits right at the trailing guard page: any byte the host touches
  // faults.
  wasi::GuestMemory memory(bool empty) const {
    return empty ? wasi::GuestMemory{data() + kMemorySize, 0}
                 : wasi::GuestMemory{data(), kMemorySize};
  }

private:
  std::size_t page_ = 0;
  std::uint8_t* base_ = nullptr;
};

// A description of a directory tree by lstat (type, mode, size, inode), symlink targets and
// file contents, sorted by name. `skip` (a full path) is named but not descended into: the
// scratch directory changes during every input and is checked on its own.
void describe_tree(const std::string& path, const std::string& skip, int depth, std::string& out) {
  if (depth > 8) {
    out += "too deep: " + path + "\n";
    return;
  }
  DIR* listing = ::opendir(path.c_str());
  if (listing == nullptr) {
    out += "cannot list " + path + "\n";
    return;
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(listing)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..")
      names.emplace_back(name);
  }
  ::closedir(listing);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string full = path + "/" + name;
    struct stat info {};
    if (::lstat(full.c_str(), &info) != 0) {
      out += "cannot stat " + full + "\n";
      continue;
    }
    out += full + " mode " + std::to_string(info.st_mode) + " inode " + std::to_string(info.st_ino);
    // A directory's size grows with the entries it once held and never shrinks back.
    if (full == skip) {
      out += "\n";
      continue;
    }
    out += " size " + std::to_string(info.st_size) + "\n";
    if (S_ISDIR(info.st_mode)) {
      describe_tree(full, skip, depth + 1, out);
    } else if (S_ISLNK(info.st_mode)) {
      char target[4096];
      ssize_t length = ::readlink(full.c_str(), target, sizeof target);
      out += "-> " + std::string(target, length > 0 ? static_cast<std::size_t>(length) : 0) + "\n";
    } else if (S_ISREG(info.st_mode)) {
      int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
      char contents[256];
      ssize_t length = fd >= 0 ? ::read(fd, contents, sizeof contents) : -1;
      if (fd >= 0)
        ::close(fd);
      out += "= " + std::string(contents, length > 0 ? static_cast<std::size_t>(length) : 0) + "\n";
    }
  }
}

std::size_t count_entries(const char* path) {
  DIR* listing = ::opendir(path);
  if (listing == nullptr)
    violated("cannot list a directory the checks need");
  std::size_t count = 0;
  while (dirent* entry = ::readdir(listing)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..")
      ++count;
  }
  ::closedir(listing);
  return count;
}

// Open descriptors of the process. The listing's own descriptor is counted every time, so the
// comparison of two counts is exact.
std::size_t open_descriptors() {
  return count_entries("/proc/self/fd");
}

// The tree of wasi_fixture.hpp: data/ with files, a subdirectory and links (one staying inside,
// one relative and one absolute leading out), scratch/, and outside/secret.txt. Made once per
// process under TMPDIR and removed at exit.
class SandboxTree {
public:
  SandboxTree() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/fuzz_wasi_host-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      violated("cannot create the sandbox tree");
    base_ = pattern;
    // libFuzzer ends a timed run with exit(), and the replay main returns from main: both run
    // atexit handlers. A crash leaves the tree behind, next to its report.
    static std::string* to_remove = &base_;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(*to_remove, ignored);
    });

    make_directory(base_ + "/outside");
    write_file(base_ + "/outside/secret.txt", "secret");
    make_directory(base_ + "/data");
    make_directory(base_ + "/data/sub");
    write_file(base_ + "/data/hello.txt", "hello data");
    write_file(base_ + "/data/sub/inner.txt", "inner");
    make_link("../outside/secret.txt", base_ + "/data/escape");
    make_link(base_ + "/outside/secret.txt", base_ + "/data/absolute");
    make_link("hello.txt", base_ + "/data/alias");

    std::string error;
    sandbox_ = wasi::Sandbox::open({base_ + "/data", scratch()}, error);
    if (sandbox_ == nullptr) {
      std::fprintf(stderr, "fuzz_wasi_host: %s\n", error.c_str());
      violated("cannot open the sandbox");
    }
    snapshot_ = describe();
  }

  wasi::Sandbox& sandbox() { return *sandbox_; }
  std::string scratch() const { return base_ + "/scratch"; }
  std::string describe() const {
    std::string out;
    describe_tree(base_, scratch(), 0, out);
    return out;
  }
  const std::string& snapshot() const { return snapshot_; }

private:
  static void make_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0)
      violated("cannot create a directory of the sandbox tree");
  }
  static void make_link(const std::string& target, const std::string& path) {
    if (::symlink(target.c_str(), path.c_str()) != 0)
      violated("cannot create a link of the sandbox tree");
  }
  static void write_file(const std::string& path, std::string_view contents) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool written = fd >= 0 && ::write(fd, contents.data(), contents.size()) ==
                                  static_cast<ssize_t>(contents.size());
    if (fd >= 0)
      ::close(fd);
    if (!written)
      violated("cannot write a file of the sandbox tree");
  }

  std::string base_;
  std::unique_ptr<wasi::Sandbox> sandbox_;
  std::string snapshot_;
};

// Stdio as the input scripts it. No call ever sleeps: where the watchdog would block (stdin
// open with nothing left, a wait for a later deadline), the call either wakes early, as a
// spurious wake-up would, or reports the cancellation the request's deadline would bring.
class ScriptedStdio final : public wasi::Stdio {
public:
  ScriptedStdio(std::span<const std::uint8_t> input, bool input_open, int early_wakes,
                int cancel_at)
      : input_(input), input_open_(input_open), early_wakes_(early_wakes), cancel_at_(cancel_at) {}

  int interruptions() const { return interruptions_; }

  ReadResult read_stdin(std::span<std::uint8_t> buffer) override {
    if (cancelled_by(++calls_) || (input_at_ == input_.size() && input_open_))
      return {interrupt(), 0};
    if (input_at_ == input_.size())
      return {Status::end, 0};
    std::size_t size = std::min(buffer.size(), input_.size() - input_at_);
    std::memcpy(buffer.data(), input_.data() + input_at_, size);
    input_at_ += size;
    return {Status::ok, size};
  }
  bool stdin_ready() override {
    return cancelled_by(calls_) || input_at_ < input_.size() || !input_open_;
  }
  Status write_stdout(std::span<const std::uint8_t>) override { return write(); }
  Status write_stderr(std::span<const std::uint8_t>) override { return write(); }
  WaitResult wait(bool want_stdin, Deadline deadline) override {
    if (cancelled_by(++calls_)) {
      interrupt();
      return WaitResult::interrupted;
    }
    if (want_stdin && stdin_ready())
      return WaitResult::stdin_ready;
    if (deadline <= std::chrono::steady_clock::now())
      return WaitResult::timed_out;
    if (early_wakes_ > 0) {
      --early_wakes_;
      return WaitResult::timed_out;
    }
    interrupt();
    return WaitResult::interrupted;
  }

private:
  bool cancelled_by(int calls) const { return cancel_at_ != 0 && calls >= cancel_at_; }
  Status interrupt() {
    ++interruptions_;
    return Status::interrupted;
  }
  Status write() { return cancelled_by(++calls_) ? interrupt() : Status::ok; }

  std::span<const std::uint8_t> input_;
  std::size_t input_at_ = 0;
  bool input_open_;
  int early_wakes_;
  int cancel_at_;
  int calls_ = 0;
  int interruptions_ = 0;
};

// One argument value. The selector byte's top three bits pick a kind, its low five an entry:
// small numbers (fds, flags, counts), the address or the length of a known path, another known
// address, a boundary value, or a raw 16-, 32- or 64-bit value from the next bytes. i32
// parameters get full 64-bit values too: the host must use only their low half.
std::uint64_t next_value(InputReader& input, const MemoryImage& image) {
  std::uint8_t selector = input.byte();
  unsigned entry = selector & 0x1f;
  std::size_t path = entry % paths().size();
  switch (selector >> 5) {
  case 0:
    return entry;
  case 1:
    return image.path_at[path];
  case 2:
    return paths()[path].size();
  case 3:
    return image.addresses[entry % image.addresses.size()];
  case 4:
    return kSpecialValues[entry % std::size(kSpecialValues)];
  case 5:
    return input.little_endian(2);
  case 6:
    return input.little_endian(4);
  default:
    return input.little_endian(8);
  }
}

// A write into guest memory between calls, as the guest's own code would make: raw bytes (a
// 16-bit offset, a length byte, the bytes) or one value (a width byte, then two values: where
// and what).
void poke(std::uint32_t operation, InputReader& input, const MemoryImage& image,
          wasi::GuestMemory memory) {
  if (operation == kPokeBytes) {
    std::uint64_t offset = input.little_endian(2);
    std::span<const std::uint8_t> bytes = input.take(input.byte());
    if (offset < memory.size) {
      std::size_t size = std::min<std::uint64_t>(bytes.size(), memory.size - offset);
      std::memcpy(memory.data + offset, bytes.data(), size);
    }
    return;
  }
  std::size_t width = (input.byte() & 1) != 0 ? 8 : 4;
  std::uint64_t offset = next_value(input, image);
  std::uint64_t value = next_value(input, image);
  if (memory.size >= width)
    std::memcpy(memory.data + offset % (memory.size - width + 1), &value, width);
}

struct Process {
  SandboxTree tree;
  GuardedMemory memory;
  MemoryImage image;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Made on the first input and kept: the replay main has no LLVMFuzzerInitialize to call.
  static Process& process = *new Process();
  InputReader input(data, size);
  std::uint8_t flags = input.byte();
  std::span<const std::uint8_t> stdin_bytes = input.take(input.byte());

  bool empty_memory = (flags >> 5) == 7;
  wasi::GuestMemory memory = process.memory.memory(empty_memory);
  std::memcpy(process.memory.data(), process.image.bytes.data(), kMemorySize);
  static constexpr int kCancelAt[] = {0, 1, 3, 9};
  ScriptedStdio stdio(stdin_bytes, (flags & 1) != 0, (flags >> 1) & 3, kCancelAt[(flags >> 3) & 3]);
  wasi::HostSetup setup{{"fuzz.wasm"}, {}};
  if ((flags & 0x20) == 0) {
    setup.args.insert(setup.args.end(), {"--flag", ""});
    setup.environ = {"Http_Method=POST", "Http_Path=/fuzz", "EMPTY="};
  }

  std::size_t descriptors_before = open_descriptors();
  {
    wasi::Host host(std::move(setup), stdio, process.tree.sandbox());
    std::span<const ofwatchdog::wasm::WasiSignature> signatures =
        ofwatchdog::wasm::wasi_signatures();
    int calls = 0;
    while (calls < kMaxCalls && !input.empty()) {
      std::uint32_t operation = input.byte() % kOperationCount;
      if (operation == kPokeBytes || operation == kPokeValue) {
        poke(operation, input, process.image, memory);
        continue;
      }
      const ofwatchdog::wasm::WasiSignature& signature = signatures[operation];
      std::array<std::uint64_t, kMaxParams> args{};
      for (std::size_t i = 0; i < signature.params.size() && i < kMaxParams; ++i)
        args[i] = next_value(input, process.image);
      ++calls;
      int interruptions = stdio.interruptions();
      wasi::HostResult result = host.call(signature.function, args.data(), memory);
      bool exits = signature.function == wasi::Function::proc_exit;
      switch (result.kind) {
      case wasi::HostResult::Kind::returned:
        if (exits)
          violated("proc_exit returned");
        if (result.value > kLargestErrno)
          violated("a call returned a value that is no WASI errno");
        continue;
      case wasi::HostResult::Kind::exited:
        if (!exits)
          violated("a call other than proc_exit exited");
        break;
      case wasi::HostResult::Kind::interrupted:
        if (stdio.interruptions() == interruptions)
          violated("a call was interrupted without a cancellation from Stdio");
        break;
      }
      break;
    }
  }
  // The end of the request: ~Host closed the guest's descriptors and reset the sandbox.
  if (open_descriptors() != descriptors_before)
    violated("a host descriptor outlived the request");
  if (count_entries(process.tree.scratch().c_str()) != 0)
    violated("the scratch directory is not empty after the request");
  if (process.tree.describe() != process.tree.snapshot())
    violated("the data directory or the tree around the sandbox changed");
  return 0;
}
