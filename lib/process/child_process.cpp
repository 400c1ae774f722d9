// A forked function and its pipes; see child_process.hpp for the ownership rules.
#include "process/child_process.hpp"

#include <sys/stat.h>

#include <cassert>
#include <cstdlib>

namespace ofwatchdog::process {

namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;

// A queued stdin write and the bytes it points at.
struct StdinWrite {
  uv_write_t req{};
  ChildProcess* owner = nullptr;
  std::string data;
};

bool is_executable_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return false;
  return !S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0;
}

std::string_view path_variable(const std::vector<std::string>& env) {
  std::string_view found;
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0)
      found = std::string_view(entry).substr(5); // the last one wins, as in the child
  }
  return found;
}

} // namespace

ResolvedProgram resolve_program(std::string_view name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string_view::npos)
    return {std::string(name), {}};
  if (!name.empty()) {
    std::string_view dirs = path_variable(env);
    while (!dirs.empty()) {
      std::size_t colon = dirs.find(':');
      std::string_view dir = dirs.substr(0, colon);
      dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
      // An empty entry means the current directory, as in every shell.
      std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + std::string(name);
      if (is_executable_file(candidate))
        return {candidate, {}};
    }
  }
  return {{}, not_in_path_text(name)};
}

ChildProcess::ChildProcess(uv_loop_t* loop) : loop_(loop) {}

ChildProcess::SpawnResult ChildProcess::spawn(uv_loop_t* loop, const SpawnOptions& options,
                                              ExitCallback on_exit) {
  if (options.argv.empty())
    return {nullptr, not_in_path_text("")};
  ResolvedProgram program = resolve_program(options.argv[0], options.env);
  if (!program.error.empty())
    return {nullptr, program.error};

  std::vector<char*> args;
  for (const std::string& a : options.argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const std::string& e : options.env)
    env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  auto* child = new ChildProcess(loop);
  uv_stdio_container_t stdio[3];
  for (int i = 0; i < 3; ++i) {
    Pipe& p = child->pipes_[i];
    uv_pipe_init(loop, &p.handle, 0);
    p.handle.data = child;
    p.open = true;
    ++child->open_handles_;
    // The readable/writable flags are from the child's point of view.
    stdio[i].flags = static_cast<uv_stdio_flags>(
        UV_CREATE_PIPE | (i == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE));
    stdio[i].data.stream = reinterpret_cast<uv_stream_t*>(&p.handle);
  }

  uv_process_options_t opts{};
  opts.exit_cb = &ChildProcess::exit_cb;
  opts.file = program.path.c_str();
  opts.args = args.data();
  opts.env = env.data();
  opts.flags = UV_PROCESS_DETACHED;
  opts.stdio_count = 3;
  opts.stdio = stdio;
  child->process_.data = child;
  // uv_spawn initialises the process handle even when it fails, so it is closed either way.
  ++child->open_handles_;
  int rc = uv_spawn(loop, &child->process_, &opts);
  if (rc != 0) {
    std::string error = spawn_error_text(program.path, rc);
    child->release();
    return {nullptr, error};
  }
  child->spawned_ = true;
  child->pid_ = child->process_.pid;
  child->exit_callback_ = std::move(on_exit);
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

void ChildProcess::alloc_cb(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<ChildProcess*>(handle->data);
  if (!self->read_buffer_)
    self->read_buffer_ = std::make_unique<char[]>(kReadBufferSize);
  *buf = uv_buf_init(self->read_buffer_.get(), kReadBufferSize);
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
  if (!in.open || close_stdin_requested_)
    return UV_EPIPE;
  if (data.empty())
    return 0;
  // Most writes fit in the pipe at once; only the rest is copied and queued.
  if (writes_pending_ == 0) {
    uv_buf_t direct = uv_buf_init(const_cast<char*>(data.data()), data.size());
    int n = uv_try_write(stream(Stdio::in), &direct, 1);
    if (n >= 0)
      data.remove_prefix(static_cast<std::size_t>(n));
    else if (n != UV_EAGAIN)
      return n;
    if (data.empty())
      return 0;
  }
  auto* w = new StdinWrite;
  w->data.assign(data);
  w->owner = this;
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->data.data(), w->data.size());
  int rc = uv_write(&w->req, stream(Stdio::in), &buf, 1, &ChildProcess::write_cb);
  if (rc != 0) {
    delete w;
    return rc;
  }
  ++writes_pending_;
  return 0;
}

void ChildProcess::write_cb(uv_write_t* req, int status) {
  auto* write = static_cast<StdinWrite*>(req->data);
  ChildProcess* self = write->owner;
  delete write;
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

void ChildProcess::close_pipe(Stdio which) {
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
    int direct = uv_process_kill(&process_, signum);
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
  if (!spawned_ || exited_)
    close_process();
}

void ChildProcess::close_process() {
  if (process_closing_)
    return;
  process_closing_ = true;
  close_handle(reinterpret_cast<uv_handle_t*>(&process_));
}

void ChildProcess::exit_cb(uv_process_t* process, int64_t exit_status, int term_signal) {
  auto* self = static_cast<ChildProcess*>(process->data);
  self->exited_ = true;
  self->exit_status_.exit_status = exit_status;
  self->exit_status_.term_signal = term_signal;
  if (self->released_) {
    self->close_process();
    return;
  }
  if (self->exit_callback_) {
    ExitCallback callback = std::move(self->exit_callback_);
    self->exit_callback_ = nullptr;
    callback(self->exit_status_);
  }
}

void ChildProcess::close_handle(uv_handle_t* handle) {
  handle->data = this;
  uv_close(handle, &ChildProcess::close_cb);
}

void ChildProcess::close_cb(uv_handle_t* handle) {
  auto* self = static_cast<ChildProcess*>(handle->data);
  if (--self->open_handles_ > 0)
    return;
  std::function<void()> on_closed = std::move(self->on_closed_);
  delete self;
  if (on_closed)
    on_closed();
}

} // namespace ofwatchdog::process
