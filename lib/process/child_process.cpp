// A forked function and its pipes; see child_process.hpp for the ownership rules.
#include "process/child_process.hpp"

#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <csignal>
#include <memory>

#include "process/clone_spawn.hpp"
#include "util/invariant.hpp"
#include "util/stream_write.hpp"

namespace ofwatchdog::process {

namespace {

// One buffer per thread serves the stdout and stderr reads of every child of its loop: libuv
// hands each read to its callback before it allocates for the next, and sinks consume the data
// during the call. So no request allocates a read buffer, and a pipe of 1 MiB is drained in a
// few reads instead of sixteen.
constexpr std::size_t kReadBufferSize = 256 * 1024;
thread_local std::unique_ptr<char[]> read_buffer;

// A queued stdin write and the bytes it points at.
struct StdinWrite {
  uv_write_t req{};
  ChildProcess* owner = nullptr;
  std::string data;
};

// Finished stdin writes kept for reuse with their buffers, so a body streamed into a function
// that reads slowly does not cost a malloc and a free (and with glibc, heap growth and trimming)
// per socket read. Small and per thread: a few writes are in flight per loop at a time.
constexpr std::size_t kSpareWrites = 8;
constexpr std::size_t kSpareWriteCapacity = 256 * 1024;
thread_local std::vector<std::unique_ptr<StdinWrite>> spare_writes;

StdinWrite* take_write() {
  if (spare_writes.empty())
    return new StdinWrite;
  StdinWrite* write = spare_writes.back().release();
  spare_writes.pop_back();
  return write;
}

void give_back_write(StdinWrite* write) {
  if (spare_writes.size() >= kSpareWrites || write->data.capacity() > kSpareWriteCapacity) {
    delete write;
    return;
  }
  write->data.clear();
  write->owner = nullptr;
  spare_writes.emplace_back(write);
}

} // namespace

ChildProcess::ChildProcess(uv_loop_t* loop) : loop_(loop) {}

ChildProcess::SpawnResult ChildProcess::spawn(uv_loop_t* loop, const SpawnOptions& options,
                                              ExitCallback on_exit) {
  if (options.argv.empty())
    return {nullptr, not_in_path_text("")};
  ResolvedProgram program = resolve_program(options.argv[0], options.env);
  if (!program.error.empty())
    return {nullptr, program.error};

  std::vector<char*> args;
  args.reserve(options.argv.size() + 1);
  for (const std::string& a : options.argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  env.reserve(options.env.size() + 1);
  for (const std::string& e : options.env)
    env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  StdioPipes pipes;
  if (int rc = pipes.create(); rc != 0) {
    pipes.close_all();
    return {nullptr, spawn_error_text(program.path, rc), rc};
  }
  // The reaper listens for SIGCHLD before the child exists, so an instant exit is not missed.
  ChildReaper* reaper = ChildReaper::acquire(loop);
  pid_t pid = 0;
  int rc = spawn_with_pipes(&pid, program.path, args.data(), env.data(), pipes);
  pipes.close_theirs();
  if (rc != 0) {
    pipes.close_all();
    reaper->release_if_idle();
    forget_resolution(options.argv[0], options.env);
    return {nullptr, spawn_error_text(program.path, -rc), -rc};
  }

  auto* child = new ChildProcess(loop);
  for (int i = 0; i < 3; ++i) {
    Pipe& p = child->pipes_[i];
    uv_pipe_init(loop, &p.handle, 0);
    p.handle.data = child;
    // Only a descriptor the loop already watches could fail here.
    OFW_INVARIANT(uv_pipe_open(&p.handle, pipes.ours[i]) == 0,
                  "a fresh pipe to a child is already watched by the loop");
    p.open = true;
    ++child->open_handles_;
  }
  ++child->open_handles_; // the process itself, until it is reaped and released
  child->spawned_ = true;
  child->pid_ = pid;
  child->exit_callback_ = std::move(on_exit);
  reaper->track(pid, child);
  return {child, {}};
}

void ChildProcess::read_output(Stdio which, OutputSink* sink) {
  assert(which != Stdio::in);
  Pipe& p = pipe(which);
  if (!p.open)
    return;
  p.sink = sink;
  p.reading = true;
  uv_read_start(stream(which), &ChildProcess::alloc_cb, &ChildProcess::read_cb);
}

void ChildProcess::pause_output(Stdio which) {
  Pipe& p = pipe(which);
  if (p.open && p.reading) {
    uv_read_stop(stream(which));
    p.reading = false;
  }
}

void ChildProcess::resume_output(Stdio which) {
  Pipe& p = pipe(which);
  if (p.open && !p.reading && p.sink != nullptr) {
    p.reading = true;
    uv_read_start(stream(which), &ChildProcess::alloc_cb, &ChildProcess::read_cb);
  }
}

void ChildProcess::alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) {
  if (!read_buffer)
    read_buffer = std::make_unique<char[]>(kReadBufferSize);
  *buf = uv_buf_init(read_buffer.get(), kReadBufferSize);
}

void ChildProcess::read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ChildProcess*>(stream->data);
  Stdio which = stream == self->stream(Stdio::out) ? Stdio::out : Stdio::err;
  self->on_read(which, nread, buf);
}

void ChildProcess::on_read(Stdio which, ssize_t nread, const uv_buf_t* buf) {
  Pipe& p = pipe(which);
  if (nread == 0)
    return; // EAGAIN: nothing this time
  OutputSink* sink = p.sink;
  if (nread > 0) {
    if (sink != nullptr)
      sink->on_output(std::string_view(buf->base, static_cast<std::size_t>(nread)));
    return;
  }
  // EOF or a read error ends the stream; the pipe is of no further use.
  p.sink = nullptr;
  close_pipe(which);
  if (sink != nullptr)
    sink->on_output_end(nread == UV_EOF ? 0 : static_cast<int>(nread));
}

int ChildProcess::write_stdin(std::string_view data) {
  Pipe& in = pipe(Stdio::in);
  assert(in.splice == nullptr); // the kernel is moving bytes into it
  if (!in.open || close_stdin_requested_)
    return UV_EPIPE;
  if (data.empty())
    return 0;
  // Most writes fit in the pipe at once; only the rest is copied and queued.
  if (writes_pending_ == 0) {
    uv_buf_t direct = uv_buf_init(const_cast<char*>(data.data()), data.size());
    int n = util::write_now(stream(Stdio::in), &direct, 1);
    if (n >= 0)
      data.remove_prefix(static_cast<std::size_t>(n));
    else if (n != UV_EAGAIN)
      return n;
    if (data.empty())
      return 0;
  }
  StdinWrite* w = take_write();
  w->data.assign(data);
  w->owner = this;
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->data.data(), w->data.size());
  int rc = uv_write(&w->req, stream(Stdio::in), &buf, 1, &ChildProcess::write_cb);
  if (rc != 0) {
    give_back_write(w);
    return rc;
  }
  ++writes_pending_;
  return 0;
}

void ChildProcess::write_cb(uv_write_t* req, int status) {
  auto* write = static_cast<StdinWrite*>(req->data);
  ChildProcess* self = write->owner;
  give_back_write(write);
  self->on_write_done(status);
}

void ChildProcess::on_write_done(int status) {
  --writes_pending_;
  if (writes_pending_ == 0 && close_stdin_requested_ && pipe(Stdio::in).open)
    close_pipe(Stdio::in);
  if (!released_ && stdin_callback_) {
    StdinCallback callback = stdin_callback_; // the callback may replace itself
    callback(status);
  }
}

std::size_t ChildProcess::stdin_queued_bytes() const {
  const Pipe& in = pipes_[0];
  if (!in.open)
    return 0;
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&in.handle));
}

void ChildProcess::close_stdin() {
  if (close_stdin_requested_)
    return;
  close_stdin_requested_ = true;
  if (writes_pending_ == 0 && pipe(Stdio::in).open)
    close_pipe(Stdio::in);
}

int ChildProcess::pipe_fd(Stdio which) const {
  const Pipe& p = pipes_[static_cast<int>(which)];
  uv_os_fd_t fd = -1;
  if (!p.open || uv_fileno(reinterpret_cast<const uv_handle_t*>(&p.handle), &fd) != 0)
    return -1;
  return fd;
}

bool ChildProcess::splice_stdin_from(int file, std::uint64_t offset, std::uint64_t length,
                                     SpliceProgress progress, SpliceDone done) {
  const Pipe& in = pipe(Stdio::in);
  // Queued writes go first, or the bytes would reach the function out of order.
  if (!in.open || close_stdin_requested_ || writes_pending_ > 0 || in.splice != nullptr ||
      length == 0)
    return false;
  PipeFileSplice::Options options;
  options.direction = PipeFileSplice::Direction::file_to_pipe;
  options.pipe = pipe_fd(Stdio::in);
  options.file = file;
  options.offset = offset;
  options.length = length;
  return start_splice(Stdio::in, options, std::move(progress), std::move(done));
}

bool ChildProcess::splice_output_to(Stdio which, int file, std::uint64_t offset,
                                    SpliceProgress progress, SpliceDone done) {
  assert(which != Stdio::in);
  Pipe& p = pipe(which);
  if (!p.open || p.sink == nullptr || p.splice != nullptr)
    return false;
  PipeFileSplice::Options options;
  options.direction = PipeFileSplice::Direction::pipe_to_file;
  options.pipe = pipe_fd(which);
  options.file = file;
  options.offset = offset;
  if (!start_splice(which, options, std::move(progress), std::move(done)))
    return false;
  // The kernel reads the pipe now; libuv must not take bytes from it meanwhile.
  if (p.reading) {
    uv_read_stop(stream(which));
    p.reading = false;
  }
  return true;
}

bool ChildProcess::start_splice(Stdio which, PipeFileSplice::Options options,
                                SpliceProgress progress, SpliceDone done) {
  if (options.pipe < 0)
    return false;
  auto* splice = new PipeFileSplice(loop_);
  ++open_handles_; // until its poll handle has closed
  pipe(which).splice = splice;
  int rc = splice->start(
      options, std::move(progress),
      [this, which, done = std::move(done)](int status) { on_splice_done(which, status, done); });
  if (rc != 0) {
    end_splice(which);
    return false;
  }
  return true;
}

void ChildProcess::on_splice_done(Stdio which, int status, const SpliceDone& done) {
  end_splice(which);
  Pipe& p = pipe(which);
  OutputSink* sink = which == Stdio::in ? nullptr : p.sink;
  if (which != Stdio::in && status == 0) {
    // The stream ended: as after a read that found the end.
    close_pipe(which);
  }
  if (!released_ && done)
    done(status);
  if (released_ || which == Stdio::in)
    return;
  if (status == 0) {
    if (sink != nullptr)
      sink->on_output_end(0);
  } else {
    // The file took no more: the rest goes through the sink, whose owner then meets the failure.
    resume_output(which);
  }
}

void ChildProcess::end_splice(Stdio which) {
  Pipe& p = pipe(which);
  PipeFileSplice* splice = p.splice;
  if (splice == nullptr)
    return;
  p.splice = nullptr;
  splice->close([this, splice] {
    delete splice;
    handle_closed();
  });
}

void ChildProcess::close_pipe(Stdio which) {
  end_splice(which);
  Pipe& p = pipe(which);
  p.sink = nullptr;
  p.reading = false;
  if (!p.open)
    return;
  p.open = false;
  close_handle(reinterpret_cast<uv_handle_t*>(&p.handle));
}

int ChildProcess::kill_group(int signum) {
  if (!spawned_)
    return UV_ESRCH;
  int rc = uv_kill(-pid_, signum);
  // A function may have moved itself to another group; it is still ours to stop.
  if (!exited_) {
    int direct = ::kill(pid_, signum) == 0 ? 0 : -errno;
    if (rc != 0)
      rc = direct;
  }
  return rc;
}

void ChildProcess::release(std::function<void()> on_closed) {
  assert(!released_);
  released_ = true;
  on_closed_ = std::move(on_closed);
  exit_callback_ = nullptr;
  stdin_callback_ = nullptr;
  for (Stdio which : {Stdio::in, Stdio::out, Stdio::err})
    close_pipe(which);
  // A process that has not been reaped keeps its handle open until it is, or it would be left
  // a zombie; its owner has normally killed it already.
  if (exited_)
    close_process();
}

void ChildProcess::close_process() {
  if (process_closing_)
    return;
  process_closing_ = true;
  // The idle handle is never started: closing it only defers the process's share of the
  // lifetime to the loop's close phase, so the object is not freed inside its owner's call.
  uv_idle_init(loop_, &process_done_);
  close_handle(reinterpret_cast<uv_handle_t*>(&process_done_));
}

void ChildProcess::on_reaped(const ExitStatus& status) {
  exited_ = true;
  exit_status_ = status;
  if (released_) {
    close_process();
    return;
  }
  if (exit_callback_) {
    ExitCallback callback = std::move(exit_callback_);
    exit_callback_ = nullptr;
    callback(exit_status_);
  }
}

void ChildProcess::close_handle(uv_handle_t* handle) {
  handle->data = this;
  uv_close(handle, &ChildProcess::close_cb);
}

void ChildProcess::close_cb(uv_handle_t* handle) {
  static_cast<ChildProcess*>(handle->data)->handle_closed();
}

void ChildProcess::handle_closed() {
  if (--open_handles_ > 0)
    return;
  std::function<void()> on_closed = std::move(on_closed_);
  delete this;
  if (on_closed)
    on_closed();
}

} // namespace ofwatchdog::process
