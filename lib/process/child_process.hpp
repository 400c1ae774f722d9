#pragma once
// A forked function: a process and three pipes (stdin, stdout, stderr), all owned here.
//
// The child is started with clone(CLONE_VM|CLONE_VFORK), as glibc's posix_spawn does (no copy
// of our page tables, unlike the plain fork() of libuv 1.44's uv_spawn, which cost most of a
// request), but with our own code between the clone and the exec, because posix_spawn cannot
// set a parent-death signal. The child leads a new session and therefore its own process group
// (pgid == pid): `kill_group` reaches every process it started, which is how a timeout or a
// client disconnect gets rid of a grandchild still holding stdout (docs/decisions.md,
// kill-process-group). It gets SIGKILL when the thread that spawned it ends
// (PR_SET_PDEATHSIG): for the loop's thread that means the watchdog died, for instance by SIGKILL,
// and a function or function server must not outlive it. Only the direct child is covered: its own
// children lose their stdout and stderr with the watchdog but are not signalled. Its signal mask is
// empty and every signal has its default action (SIGPIPE included, which the watchdog ignores), as
// after uv_spawn. The pipes are made here (close-on-exec, so no other child inherits them) and
// opened as uv_pipe_t; stdin and stdout are enlarged to 1 MiB where the system allows it, so a big
// body moves in fewer, larger reads. The exit is collected by the loop's ChildReaper
// (child_reaper.hpp).
//
// Lifetime: `spawn` returns a heap object that owns itself. Its owner calls `release` when it no
// longer needs it; from then on no callback reaches the owner, the pipes are closed at once,
// and the object stays until the process has been reaped (so no zombie is left). The object
// frees itself after the last close callback, then runs the callback given to `release`
// (always later, from the loop, never inside `release`).
//
//   auto spawned = ChildProcess::spawn(loop, {argv, env}, [](const ExitStatus& s) { ... });
//   if (!spawned.child) answer_500(spawned.error);
//   spawned.child->read_output(Stdio::out, &sink);
//   spawned.child->write_stdin("hello");
//   spawned.child->close_stdin();
//   ...
//   spawned.child->release();

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "process/child_reaper.hpp"
#include "process/pipe_file_splice.hpp"
#include "process/process_error.hpp"
#include "process/program_path.hpp"

namespace ofwatchdog::process {

enum class Stdio { in = 0, out = 1, err = 2 };

// Receives what a child writes to stdout or stderr.
class OutputSink {
public:
  virtual ~OutputSink() = default;
  // The view is valid only during the call.
  virtual void on_output(std::string_view data) = 0;
  // The stream ended: 0 at EOF, a negative libuv error otherwise. Nothing follows.
  virtual void on_output_end(int status) = 0;
};

struct SpawnOptions {
  // argv[0] is the program: a path (absolute or relative) or a bare name looked up in the
  // `PATH` of `env`.
  std::vector<std::string> argv;
  // The child's whole environment, "NAME=value".
  std::vector<std::string> env;
};

class ChildProcess final : private ReapListener {
public:
  using ExitCallback = std::function<void(const ExitStatus&)>;
  // After each queued stdin write completes: 0, or a negative libuv error (UV_EPIPE when the
  // function stopped reading, UV_ECANCELED when stdin was closed with writes pending).
  using StdinCallback = std::function<void(int status)>;

  struct SpawnResult {
    ChildProcess* child = nullptr; // null when the start failed
    std::string error;             // the failure text when `child` is null
    // The negative libuv error of the failed step, or 0 when the program was not found.
    // UV_EMFILE and UV_ENFILE (descriptors ran out) are worth retrying later; see
    // `out_of_descriptors`.
    int code = 0;

    bool out_of_descriptors() const { return code == UV_EMFILE || code == UV_ENFILE; }
  };

  // Starts the program. `on_exit` runs once, when the process has been reaped, unless the
  // child was released before.
  static SpawnResult spawn(uv_loop_t* loop, const SpawnOptions& options, ExitCallback on_exit);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  bool exited() const { return exited_; }
  const ExitStatus& exit_status() const { return exit_status_; }

  // Starts reading stdout or stderr into `sink` (which must stay valid until its
  // `on_output_end`, `close_pipe` or `release`). The pipe is closed after it ends.
  void read_output(Stdio which, OutputSink* sink);
  // Backpressure: stop and restart reading one stream.
  void pause_output(Stdio which);
  void resume_output(Stdio which);

  // Queues bytes for stdin (copied). Returns 0, or a negative libuv error when stdin is closed
  // or the write failed at once (UV_EPIPE).
  int write_stdin(std::string_view data);
  // Bytes queued for stdin that the function has not read yet.
  std::size_t stdin_queued_bytes() const;
  // Writes queued for stdin whose completion has not been reported yet (their bytes may all be
  // in the pipe already).
  bool stdin_writes_pending() const { return writes_pending_ > 0; }
  void set_stdin_callback(StdinCallback callback) { stdin_callback_ = std::move(callback); }
  // Closes stdin once every queued write has completed, so the function sees EOF after the data.
  void close_stdin();
  bool stdin_open() const { return pipes_[0].open && !close_stdin_requested_; }

  // Closes one pipe now, dropping queued input or unread output; its sink is not called again.
  void close_pipe(Stdio which);
  bool pipe_open(Stdio which) const { return pipes_[static_cast<int>(which)].open; }
  // The descriptor of an open pipe, for moving bytes around libuv (splice), or -1. The caller
  // duplicates it and stops this object's reading or writing of the pipe meanwhile.
  int pipe_fd(Stdio which) const;

  // --- bytes the kernel moves (pipe_file_splice.hpp) ------------------------------------------
  // A splice runs until its `SpliceDone`, which is never called from inside the call that
  // started it, nor after `close_pipe` or `release` (which stop it). `SpliceProgress` counts the
  // bytes moved, after each call. Both return false when nothing was started (the pipe is
  // closed, already spliced, or stdin has queued writes; or no descriptor was left): the caller
  // then goes on the ordinary way.
  using SpliceProgress = PipeFileSplice::Progress;
  using SpliceDone = PipeFileSplice::Done;
  // `length` bytes of `file` from `offset` into stdin, instead of write_stdin. `file` must stay
  // open until `done`. Status 0: all of them are in the pipe (close_stdin follows); UV_EPIPE:
  // the function stopped reading; any other error: the file gave no more, and the caller
  // writes the rest itself (and meets the same failure the ordinary way).
  bool splice_stdin_from(int file, std::uint64_t offset, std::uint64_t length,
                         SpliceProgress progress, SpliceDone done);
  // What `which` (stdout or stderr, read with read_output) delivers from now on goes into `file`
  // from `offset`, instead of to its sink. `file` must stay open until `done`. Status 0: the
  // stream ended, and its sink's on_output_end(0) follows at once, as after a read. An error
  // (the file took no more): the pipe is read into the sink again, from the first byte not
  // reported by `progress`, so the sink's owner meets the failure the ordinary way.
  bool splice_output_to(Stdio which, int file, std::uint64_t offset, SpliceProgress progress,
                        SpliceDone done);

  // Sends `signum` to the child's whole process group (and to the child itself should it have
  // left the group). Returns 0 or a negative libuv error.
  int kill_group(int signum);

  // The owner is done with this child; see the lifetime notes above. `on_closed` runs after the
  // last handle has closed.
  void release(std::function<void()> on_closed = {});

private:
  struct Pipe {
    uv_pipe_t handle{};
    bool open = false;
    bool reading = false;
    OutputSink* sink = nullptr;
    // Running while the kernel moves this pipe's bytes (the handle neither reads nor writes).
    PipeFileSplice* splice = nullptr;
  };

  explicit ChildProcess(uv_loop_t* loop);
  ~ChildProcess() = default;

  void on_reaped(const ExitStatus& status) override;

  Pipe& pipe(Stdio which) { return pipes_[static_cast<int>(which)]; }
  uv_stream_t* stream(Stdio which) { return reinterpret_cast<uv_stream_t*>(&pipe(which).handle); }
  void close_handle(uv_handle_t* handle);
  // One of the handles (a pipe, a splice's poll, the process's share) has closed; the last
  // frees the object.
  void handle_closed();
  void close_process();
  bool start_splice(Stdio which, PipeFileSplice::Options options, SpliceProgress progress,
                    SpliceDone done);
  void on_splice_done(Stdio which, int status, const SpliceDone& done);
  // Stops `which`'s splice, if any; its poll handle counts as open until it has closed.
  void end_splice(Stdio which);
  void on_read(Stdio which, ssize_t nread, const uv_buf_t* buf);
  void on_write_done(int status);

  static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void write_cb(uv_write_t* req, int status);
  static void close_cb(uv_handle_t* handle);

  uv_loop_t* loop_;
  // Closed (never started) once the process is reaped and released: its close callback is the
  // process's share of the object's lifetime, and keeps the last free out of `release`.
  uv_idle_t process_done_{};
  Pipe pipes_[3];
  int pid_ = 0;
  bool spawned_ = false;
  bool exited_ = false;
  bool released_ = false;
  bool process_closing_ = false;
  bool close_stdin_requested_ = false;
  ExitStatus exit_status_;
  ExitCallback exit_callback_;
  StdinCallback stdin_callback_;
  std::function<void()> on_closed_;
  int open_handles_ = 0;
  std::size_t writes_pending_ = 0;
};

} // namespace ofwatchdog::process
