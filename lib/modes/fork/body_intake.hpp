#pragma once
// A request body the kernel takes in, for the serializing mode: the exchange splices the client's
// socket into a pipe of ours (Exchange::splice_body_to), and a PipeFileSplice moves that pipe
// into the body's in-memory file (ByteQueue::file_end). The body then never enters user space
// and is copied once, from the socket's pages in the pipe into the file's pages, where the
// ordinary way reads it into the connection's buffer, copies it into the connection's input and
// writes it into the file from there.
//
// The exchange decides whether the body can be spliced (a Content-Length body over 256 KiB, an
// exchange that can): when it says no, nothing happened and the body comes through on_body as
// before. A client that goes away or a read timeout cancels the exchange as on the ordinary way,
// and `done` is never called.
//
// Ownership: `close` (or destruction) stops everything at once from the owner's view: nothing is
// called back after it. It must happen before the queue goes.

#include <cstdint>
#include <functional>

#include <uv.h>

#include "modes/byte_queue.hpp"
#include "ofwatchdog/exchange.hpp"
#include "process/pipe_file_splice.hpp"

namespace ofwatchdog::modes {

class BodyIntake {
public:
  // Body bytes now queued.
  using Progress = std::function<void(std::uint64_t bytes)>;
  // The whole body is queued.
  using Done = std::function<void()>;

  explicit BodyIntake(uv_loop_t* loop) : loop_(loop) {}
  ~BodyIntake() { close(); }
  BodyIntake(const BodyIntake&) = delete;
  BodyIntake& operator=(const BodyIntake&) = delete;

  // Takes the rest of `exchange`'s body into `queue`, which must be empty (its bytes then go
  // straight into its file). False when nothing started: the queue is as it was, and the body
  // comes through on_body. Callbacks never run inside this call.
  bool start(Exchange& exchange, ByteQueue& queue, Progress progress, Done done);
  void close();

private:
  // idle -> filling (the exchange fills the pipe) -> draining (the exchange is done and our write
  // end closed: the pipe goes into the file until it ends) -> ended; any -> ended by close.
  enum class Stage : std::uint8_t { idle, filling, draining, ended };

  void on_socket_done();
  void on_file_done(int status);
  // Closes the pipe splice; it frees itself once its handle has closed.
  static void retire(process::PipeFileSplice* splice);

  uv_loop_t* loop_;
  Stage stage_ = Stage::idle;
  int write_end_ = -1;
  process::PipeFileSplice* splice_ = nullptr;
  ByteQueue* queue_ = nullptr;
  Progress progress_;
  Done done_;
};

} // namespace ofwatchdog::modes
