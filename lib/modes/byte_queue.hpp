#pragma once
// A first-in first-out queue of bytes for the serializing mode, which holds a whole request body
// and a whole function output in memory.
//
// The first bytes live in two small heap blocks (16 KiB, then 64 KiB), so the common small
// request costs no system call. Everything beyond them goes into an anonymous in-memory file
// (memfd_create), appended with write(2) and read back with pread(2) through one warm window
// per thread. Why a file and not mapped memory: on the virtual machines the watchdog runs on,
// the first touch of every fresh user page costs a trap to the hypervisor, so copying into new
// mapped blocks ran at about 250 MiB/s against several GiB/s into memory already touched; the
// kernel fills page-cache pages through its own mapping and pays none of that. The file's pages
// are shared memory: the container's memory cgroup counts them, the process's RSS does not.
//
// Consumed bytes go back to the system while the rest is still queued (the consumed part of the
// file is punched out, a megabyte at a time), so moving a body from one queue into a pipe never
// holds it twice. A queue told so (`release_on`) leaves that work, and the closing of its file,
// to the thread pool. A queue whose bytes are all in the file can hand the file itself to sendfile
// (`file_range`). When no memfd can be made (an old kernel, a seccomp filter, no descriptors
// left), or a file size limit is set, the queue falls back to 1 MiB mapped blocks, unmapped as
// they are consumed.
//
// The kernel can also move bytes in and out of the file itself: `file_end` says where appended
// bytes go, `file_range` where the queued ones are.
//
//   ByteQueue q;
//   q.append(data);                      // copies
//   while (!q.empty()) { auto s = q.front(); use(s); q.consume(s.size()); }

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

#include <uv.h>

namespace ofwatchdog::modes {

class ByteQueue {
public:
  // The largest block: every mapped block of the fallback has this size.
  static constexpr std::size_t kBlockSize = 1024 * 1024;
  // The most `front()` returns from the file in one view.
  static constexpr std::size_t kWindowSize = 256 * 1024;
  // The size of the block allocated `index`-th since the queue was last empty (the fallback's
  // sizes: with a file, only the first two blocks exist).
  static std::size_t block_capacity(std::size_t index);

  // Bytes of a queue that are all in its file, for sendfile. `fd` stays open as long as the
  // queue is not consumed, cleared or destroyed.
  struct FileRange {
    int fd;
    std::uint64_t offset;
    std::uint64_t length;
  };

  ByteQueue() = default;
  ~ByteQueue();
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;

  // Copies `data` to the back. Aborts if the system has no memory left for it (as `new` would).
  void append(std::string_view data);
  // The first contiguous run of queued bytes (at most one block, or kWindowSize from the file);
  // empty when the queue is. A view into the file's window is valid until the next `front()` of
  // any queue on this thread, or until `consume`, `clear` or `append` on this one.
  std::string_view front() const;
  // Drops `n` bytes from the front: at most front().size() from a block; from the file, any
  // number up to what it holds (so a range handed to sendfile can be dropped at once).
  void consume(std::size_t n);
  // Drops everything, frees every block and closes the file.
  void clear();

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // Blocks held in memory (heap or mapped); bytes in the file are not counted.
  std::size_t blocks() const { return blocks_.size(); }
  // The queued bytes when all of them are in the file (none in a block); nullopt otherwise.
  std::optional<FileRange> file_range() const;
  // Where the next appended bytes go when that is the file (the heap blocks are full; the file is
  // made on first use), so that another writer (splice) can put them there itself and report
  // them with `appended_to_file`. nullopt while they would go into a block, or when there is no
  // file. `fd` stays open as `file_range`'s does.
  struct FileEnd {
    int fd;
    std::uint64_t offset;
  };
  std::optional<FileEnd> file_end();
  // An empty queue's next bytes go straight into the file, skipping the heap blocks: for a body
  // known to be large whose bytes the kernel will put there (`file_end`). Until the queue is
  // next empty.
  void prefer_file();
  // `n` bytes were written into the file at `file_end()`'s offset, and are now queued.
  void appended_to_file(std::uint64_t n);
  // Bytes of the file that still take memory (neither consumed and punched out nor never
  // written): what the file costs the system right now.
  std::uint64_t file_bytes_held() const;

  // From now on the file's pages go back to the system on `loop`'s thread pool
  // (file_release.hpp) instead of at once: the consumed ones as they are punched out, the rest
  // when the file is closed. A queue that empties then lets its file go instead of truncating it
  // for its next bytes (a truncation still pending would cut them).
  void release_on(uv_loop_t* loop) { release_loop_ = loop; }

  // Tests only: whether queues made from now on may use a file (true by default), so the mapped
  // fallback can be exercised.
  static void set_file_allowed_for_testing(bool allowed);

private:
  struct Block {
    char* data;
    std::size_t capacity;
    std::size_t begin; // first unread byte
    std::size_t end;   // one past the last written byte
  };
  static void release(Block& block);
  // Opens the file on first use; false when none can be made (the queue then maps blocks).
  bool open_file();
  void append_to_file(std::string_view data);
  void consume_from_file(std::size_t n);
  // Forgets the file's contents (keeping the descriptor) once everything in it was consumed.
  void reset_file();

  std::deque<Block> blocks_;
  std::size_t size_ = 0;
  std::size_t allocated_ = 0; // blocks allocated since the queue was last empty

  int fd_ = -1;
  bool file_failed_ = false;          // memfd_create failed once: map blocks from then on
  std::uint64_t file_read_ = 0;       // offset of the first unread byte of the file
  std::uint64_t file_write_ = 0;      // offset one past the last written byte
  std::uint64_t punched_ = 0;         // bytes before this offset were given back to the system
  uv_loop_t* release_loop_ = nullptr; // set: pages go back on its thread pool
};

} // namespace ofwatchdog::modes
