#pragma once
// Moves body bytes from one descriptor to another with splice(2), so that they never enter user
// space: a request body from the client socket into a function's stdin pipe, or a function's
// stdout pipe into the client socket (optionally framed as HTTP chunks). One end must be a pipe.
//
// Both descriptors are duplicated and watched with a uv_poll_t each: epoll registers
// (descriptor, open file) pairs, so the duplicates get their own registrations and leave the
// uv_tcp_t / uv_pipe_t that own the originals undisturbed (their reading must be stopped while
// this runs, since both would consume the same bytes). Every call is non-blocking: the socket is
// O_NONBLOCK (libuv's), and SPLICE_F_NONBLOCK covers the pipe.
//
// splice returns EAGAIN both when the source is empty and when the sink is full; a poll(2) with
// a zero timeout then tells which of the two to wait for. When the kernel refuses splice for
// these descriptors (EINVAL, ENOSYS), the rest is moved with read and write through a small
// buffer instead, so a transfer never has to be handed back half done.
//
// Chunked framing: the bytes waiting in the source pipe (FIONREAD) become one chunk; its size
// line is sent with MSG_MORE, the data spliced, and its CRLF sent with the next size line, or
// alone (without MSG_MORE) when the pipe is empty, so a chunk reaches the client while the
// function is still running. The terminating chunk is not sent here: the exchange's `finish`
// writes it.
//
// Ownership: `close` must be called before destruction; its callback runs once both poll handles
// have closed (the duplicates are closed then), and only then may the object be freed.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <uv.h>

#include "util/transfer_life.hpp"

namespace ofwatchdog::http {

class BodySplice {
public:
  struct Options {
    int source = -1;
    int sink = -1;
    // Payload bytes to move, `prefix` included; none: until the source ends.
    std::optional<std::uint64_t> length;
    // Payload bytes the caller already read from the source; written to the sink first.
    std::string prefix;
    // Frame the payload as HTTP/1.1 chunks (the source must be a pipe, `length` none).
    bool chunked = false;
    // When the sink stops taking bytes (EPIPE), go on reading the source and dropping it until
    // `length` is reached, so the peer is not stuck sending. Needs `length`.
    bool drain_on_sink_error = false;
  };
  // Payload bytes taken from the source (not counting `prefix`).
  using Progress = std::function<void(std::uint64_t bytes)>;
  // 0: `length` was moved, or the source ended when no length was given. UV_EOF: the source
  // ended before `length`. Another negative libuv error: a call failed (`sink_failed()` says on
  // which side). Never called from inside `start` or after `close`.
  using Done = std::function<void(int status)>;

  explicit BodySplice(uv_loop_t* loop);
  ~BodySplice();
  BodySplice(const BodySplice&) = delete;
  BodySplice& operator=(const BodySplice&) = delete;

  // Duplicates the descriptors and starts. Returns 0, or a negative libuv error when nothing
  // was started (no callback follows; `close` is still required).
  int start(Options options, Progress progress, Done done);
  // Stops at once and closes the duplicates; `closed` runs later, from the loop (at once only
  // when `start` failed before opening anything).
  void close(std::function<void()> closed);

  bool sink_failed() const { return sink_ == Sink::failed; }
  bool spliced() const { return splice_ok_; }
  // splice(2) calls made so far (for tests and profiling).
  std::uint64_t splice_calls() const { return splice_calls_; }

private:
  enum class Wait { none, source, sink };
  using Life = util::TransferLife::Stage;
  // The sink takes bytes; or it stopped and the source is read and dropped up to `length`
  // (drain_on_sink_error); or the transfer ended on its side (sink_failed).
  enum class Sink : std::uint8_t { taking, discarding, failed };
  // The source pipe, as chunked framing sees it: nothing new since the last FIONREAD, reported
  // readable since, or ended (readable with nothing to read: every writer closed it).
  enum class Source : std::uint8_t { quiet, woke, ended };

  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_closed(uv_handle_t* handle);
  void pump();
  // One step; false when the transfer waits for an event or ended.
  bool step();
  bool write_pending();
  bool next_chunk();
  bool move_payload();
  bool drain_source();
  bool on_would_block();
  void wait_for(Wait what);
  void finish(int status, bool sink_side);
  void sink_stopped(); // the sink is gone: drain the source

  uv_loop_t* loop_;
  uv_poll_t polls_[2]{};
  int fds_[2] = {-1, -1}; // our duplicates: source, sink
  int handles_open_ = 0;
  util::TransferLife life_{"an illegal move of a splice's life"};
  Sink sink_ = Sink::taking;
  Source source_ = Source::quiet;
  // Facts that hold independently of the states above: what the descriptors are, what the
  // options asked for, what the kernel allows, and where the chunk framing stands.
  bool sink_is_socket_ = false;
  bool source_is_socket_ = false;
  bool chunked_ = false;
  bool drain_ = false;
  bool splice_ok_ = true;     // splice(2) works for these descriptors (else read and write)
  bool trailer_owed_ = false; // the CRLF of the last chunk is not sent yet
  bool pending_more_ = false; // send pending_ with MSG_MORE (data follows at once)
  Wait waiting_ = Wait::none;
  int poll_errors_ = 0;
  std::optional<std::uint64_t> left_; // payload still to take from the source
  std::uint64_t chunk_left_ = 0;
  std::uint64_t splice_calls_ = 0;
  std::string pending_; // bytes for the sink before any more payload
  std::size_t pending_pos_ = 0;
  Progress progress_;
  Done done_;
  std::function<void()> closed_;
};

} // namespace ofwatchdog::http
