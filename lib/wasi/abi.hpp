#pragma once
// The numbers and memory layouts of WASI preview1 ("wasi_snapshot_preview1"), as the guest sees
// them: errno values, rights and flag bits, and the structs the host writes into or reads from
// guest memory.
//
// The structs below are the guest's layout, byte for byte (wasm32: little-endian, pointers and
// sizes 32-bit). Padding is spelled out as members so that a value-initialised struct copied into
// guest memory carries zeros, never bytes of the host's stack. The static_asserts pin every size
// and offset to the witx definitions.

#include <bit>
#include <cstddef>
#include <cstdint>

namespace ofwatchdog::wasi::abi {

static_assert(std::endian::native == std::endian::little,
              "the guest layouts are copied as they are: the host must be little-endian");

// errno: the result of every function but proc_exit.
enum class Errno : std::uint16_t {
  success = 0,
  toobig = 1, // E2BIG
  acces = 2,
  again = 6,
  badf = 8,
  busy = 10,
  exist = 20,
  fault = 21,
  fbig = 22,
  ilseq = 25,
  intr = 27,
  inval = 28,
  io = 29,
  isdir = 31,
  loop = 32,
  mfile = 33,
  mlink = 34,
  nametoolong = 37,
  nfile = 41,
  nodev = 43,
  noent = 44,
  nomem = 48,
  nospc = 51,
  nosys = 52,
  notdir = 54,
  notempty = 55,
  notsup = 58,
  nxio = 60,
  overflow = 61,
  perm = 63,
  pipe = 64,
  rofs = 69,
  spipe = 70,
  txtbsy = 74,
  xdev = 75,
  notcapable = 76,
};

enum class ClockId : std::uint32_t {
  realtime = 0,
  monotonic = 1,
  process_cputime = 2,
  thread_cputime = 3,
};

enum class Filetype : std::uint8_t {
  unknown = 0,
  block_device = 1,
  character_device = 2,
  directory = 3,
  regular_file = 4,
  socket_dgram = 5,
  socket_stream = 6,
  symbolic_link = 7,
};

enum class Whence : std::uint8_t { set = 0, cur = 1, end = 2 };

enum class EventType : std::uint8_t { clock = 0, fd_read = 1, fd_write = 2 };

constexpr std::uint8_t kPreopenTypeDir = 0;

// rights: what a descriptor may be used for.
using Rights = std::uint64_t;
namespace right {
constexpr Rights fd_datasync = 1ull << 0;
constexpr Rights fd_read = 1ull << 1;
constexpr Rights fd_seek = 1ull << 2;
constexpr Rights fd_fdstat_set_flags = 1ull << 3;
constexpr Rights fd_sync = 1ull << 4;
constexpr Rights fd_tell = 1ull << 5;
constexpr Rights fd_write = 1ull << 6;
constexpr Rights fd_advise = 1ull << 7;
constexpr Rights fd_allocate = 1ull << 8;
constexpr Rights path_create_directory = 1ull << 9;
constexpr Rights path_create_file = 1ull << 10;
constexpr Rights path_link_source = 1ull << 11;
constexpr Rights path_link_target = 1ull << 12;
constexpr Rights path_open = 1ull << 13;
constexpr Rights fd_readdir = 1ull << 14;
constexpr Rights path_readlink = 1ull << 15;
constexpr Rights path_rename_source = 1ull << 16;
constexpr Rights path_rename_target = 1ull << 17;
constexpr Rights path_filestat_get = 1ull << 18;
constexpr Rights path_filestat_set_size = 1ull << 19;
constexpr Rights path_filestat_set_times = 1ull << 20;
constexpr Rights fd_filestat_get = 1ull << 21;
constexpr Rights fd_filestat_set_size = 1ull << 22;
constexpr Rights fd_filestat_set_times = 1ull << 23;
constexpr Rights path_symlink = 1ull << 24;
constexpr Rights path_remove_directory = 1ull << 25;
constexpr Rights path_unlink_file = 1ull << 26;
constexpr Rights poll_fd_readwrite = 1ull << 27;
constexpr Rights sock_shutdown = 1ull << 28;
constexpr Rights sock_accept = 1ull << 29;
} // namespace right

// fdflags
constexpr std::uint16_t kFdflagAppend = 1u << 0;
constexpr std::uint16_t kFdflagDsync = 1u << 1;
constexpr std::uint16_t kFdflagNonblock = 1u << 2;
constexpr std::uint16_t kFdflagRsync = 1u << 3;
constexpr std::uint16_t kFdflagSync = 1u << 4;

// oflags (path_open)
constexpr std::uint16_t kOflagCreat = 1u << 0;
constexpr std::uint16_t kOflagDirectory = 1u << 1;
constexpr std::uint16_t kOflagExcl = 1u << 2;
constexpr std::uint16_t kOflagTrunc = 1u << 3;

// lookupflags
constexpr std::uint32_t kLookupSymlinkFollow = 1u << 0;

// subclockflags
constexpr std::uint16_t kSubclockAbstime = 1u << 0;

// A region of guest memory: iovec and ciovec share this layout.
struct Iovec {
  std::uint32_t buf;
  std::uint32_t buf_len;
};
static_assert(sizeof(Iovec) == 8);
static_assert(offsetof(Iovec, buf_len) == 4);

struct Fdstat {
  Filetype fs_filetype;
  std::uint8_t pad0_;
  std::uint16_t fs_flags;
  std::uint32_t pad1_;
  Rights fs_rights_base;
  Rights fs_rights_inheriting;
};
static_assert(sizeof(Fdstat) == 24);
static_assert(offsetof(Fdstat, fs_flags) == 2);
static_assert(offsetof(Fdstat, fs_rights_base) == 8);
static_assert(offsetof(Fdstat, fs_rights_inheriting) == 16);

struct Filestat {
  std::uint64_t dev;
  std::uint64_t ino;
  Filetype filetype;
  std::uint8_t pad_[7];
  std::uint64_t nlink;
  std::uint64_t size;
  std::uint64_t atim;
  std::uint64_t mtim;
  std::uint64_t ctim;
};
static_assert(sizeof(Filestat) == 64);
static_assert(offsetof(Filestat, ino) == 8);
static_assert(offsetof(Filestat, filetype) == 16);
static_assert(offsetof(Filestat, nlink) == 24);
static_assert(offsetof(Filestat, size) == 32);
static_assert(offsetof(Filestat, atim) == 40);
static_assert(offsetof(Filestat, mtim) == 48);
static_assert(offsetof(Filestat, ctim) == 56);

// prestat for a directory: the tag, then the length of its name.
struct Prestat {
  std::uint8_t tag;
  std::uint8_t pad_[3];
  std::uint32_t pr_name_len;
};
static_assert(sizeof(Prestat) == 8);
static_assert(offsetof(Prestat, pr_name_len) == 4);

// The head of a directory entry in fd_readdir's buffer; the name follows, not terminated.
struct Dirent {
  std::uint64_t d_next; // the cookie that continues after this entry
  std::uint64_t d_ino;
  std::uint32_t d_namlen;
  Filetype d_type;
  std::uint8_t pad_[3];
};
static_assert(sizeof(Dirent) == 24);
static_assert(offsetof(Dirent, d_ino) == 8);
static_assert(offsetof(Dirent, d_namlen) == 16);
static_assert(offsetof(Dirent, d_type) == 20);

// poll_oneoff's input: a tagged union after the userdata.
struct SubscriptionClock {
  ClockId id;
  std::uint32_t pad_;
  std::uint64_t timeout;
  std::uint64_t precision;
  std::uint16_t flags;
  std::uint8_t pad1_[6];
};
static_assert(sizeof(SubscriptionClock) == 32);
static_assert(offsetof(SubscriptionClock, timeout) == 8);
static_assert(offsetof(SubscriptionClock, precision) == 16);
static_assert(offsetof(SubscriptionClock, flags) == 24);

struct Subscription {
  std::uint64_t userdata;
  EventType tag;
  std::uint8_t pad_[7];
  union {
    SubscriptionClock clock;
    std::uint32_t fd; // fd_read and fd_write
  } u;
};
static_assert(sizeof(Subscription) == 48);
static_assert(offsetof(Subscription, tag) == 8);
static_assert(offsetof(Subscription, u) == 16);

// poll_oneoff's output.
struct Event {
  std::uint64_t userdata;
  Errno error;
  EventType type;
  std::uint8_t pad_[5];
  std::uint64_t nbytes; // fd_read / fd_write: bytes available
  std::uint16_t flags;  // fd_read / fd_write: eventrwflags
  std::uint8_t pad1_[6];
};
static_assert(sizeof(Event) == 32);
static_assert(offsetof(Event, error) == 8);
static_assert(offsetof(Event, type) == 10);
static_assert(offsetof(Event, nbytes) == 16);
static_assert(offsetof(Event, flags) == 24);

constexpr std::uint16_t kEventrwHangup = 1u << 0;

} // namespace ofwatchdog::wasi::abi
