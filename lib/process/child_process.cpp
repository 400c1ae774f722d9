// A forked function and its pipes; see child_process.hpp for the ownership rules.
#include "process/child_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <unordered_map>

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

// The size asked for stdin and stdout. Linux's default pipe holds 64 KiB, so `cat` and the
// watchdog take turns every 64 KiB; a larger pipe lets each side move more per system call.
// Unprivileged processes are capped by /proc/sys/fs/pipe-max-size (1 MiB by default) and by a
// per-user total; when the request fails the pipe simply keeps its default size.
constexpr int kPipeSize = 1024 * 1024;

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

// Bare names already found on PATH: "name\0PATH" -> path. See resolve_program.
thread_local std::unordered_map<std::string, std::string> resolved_names;

std::string cache_key(std::string_view name, std::string_view path_var) {
  std::string key;
  key.reserve(name.size() + 1 + path_var.size());
  key.append(name).push_back('\0');
  key.append(path_var);
  return key;
}

void forget_resolution(const std::string& name, const std::vector<std::string>& env) {
  resolved_names.erase(cache_key(name, path_variable(env)));
}

// Moves `fd` above the standard descriptors, so the dup2 onto 0, 1 and 2 in the child can never
// overwrite a pipe end another dup2 still needs (possible when the watchdog runs with one of
// them closed). Returns the descriptor to use, or -1 with errno set.
int above_stdio(int fd) {
  if (fd > 2)
    return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return moved;
}

// The three pipes of a child: `ours[i]` stays here, `theirs[i]` becomes the child's fd i.
struct StdioPipes {
  int ours[3] = {-1, -1, -1};
  int theirs[3] = {-1, -1, -1};

  // Returns 0 or a negative errno.
  int create() {
    for (int i = 0; i < 3; ++i) {
      int fds[2];
      // Close-on-exec, so that a child spawned for another request never holds these open.
      if (::pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
      int read_end = above_stdio(fds[0]);
      int write_end = above_stdio(fds[1]);
      if (read_end < 0 || write_end < 0) {
        int error = -errno;
        if (read_end >= 0)
          ::close(read_end);
        if (write_end >= 0)
          ::close(write_end);
        return error;
      }
      // stdin: the child reads; stdout and stderr: the child writes.
      ours[i] = i == 0 ? write_end : read_end;
      theirs[i] = i == 0 ? read_end : write_end;
      if (i != 2)
        ::fcntl(ours[i], F_SETPIPE_SZ, kPipeSize); // a failure keeps the default size
    }
    return 0;
  }

  void close_theirs() {
    for (int& fd : theirs) {
      if (fd >= 0)
        ::close(fd);
      fd = -1;
    }
  }

  void close_all() {
    close_theirs();
    for (int& fd : ours) {
      if (fd >= 0)
        ::close(fd);
      fd = -1;
    }
  }
};

// What the child needs between the clone and the exec. The child runs in the watchdog's memory
// (CLONE_VM) while the spawning thread waits (CLONE_VFORK), so it reads this from the parent's
// stack and writes its failure back into it.
struct ChildStart {
  const char* path;
  char* const* argv;
  char* const* envp;
  const int* stdio; // the child's ends of the three pipes, all above 2
  pid_t watchdog;   // the watchdog's pid, to notice that it died before the death signal was set
  int error = 0;    // the errno of the step that failed; 0 when the exec succeeded
};

// The signal a function gets when the watchdog's spawning thread ends, which for the loop's
// thread means the watchdog was killed: nobody is left to read its output or to stop it, and a
// function server or a slow function left behind would hold its port and run on unattended.
constexpr int kWatchdogDeathSignal = SIGKILL;

// The child's set-up before its exec; returns 0 or the errno of the step that failed.
__attribute__((no_sanitize("address", "undefined"))) int prepare_child(const ChildStart& start) {
  // The parent blocked every signal before the clone, so none of its handlers can run here;
  // every signal gets its default action (SIGPIPE included, which the watchdog ignores) before
  // the mask is emptied. glibc's own two signals cannot be changed and fail harmlessly.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signum = 1; signum < NSIG; ++signum) {
    if (signum != SIGKILL && signum != SIGSTOP)
      ::sigaction(signum, &default_action, nullptr);
  }
  // A new session, hence a process group of its own that kill_group reaches.
  if (::setsid() < 0)
    return errno;
  for (int i = 0; i < 3; ++i) {
    if (::dup2(start.stdio[i], i) < 0)
      return errno;
  }
  if (::prctl(PR_SET_PDEATHSIG, kWatchdogDeathSignal) != 0)
    return errno;
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  return 0;
}

// Runs in the child until execve. Only async-signal-safe calls are made: the child shares the
// parent's memory, heap locks included. Not instrumented by the sanitizers, whose bookkeeping
// would run in a process that borrows the parent's memory and thread.
__attribute__((no_sanitize("address", "undefined"))) int start_child(void* argument) {
  auto* start = static_cast<ChildStart*>(argument);
  int error = prepare_child(*start);
  if (error == 0) {
    // The watchdog may have died between the clone and the prctl, before there was anything
    // to signal: the child was then handed to another parent and must not start at all. Its
    // exit status goes to that parent; nobody is left to read an error.
    if (::getppid() != start->watchdog)
      ::_exit(127);
    ::execve(start->path, start->argv, start->envp);
    error = errno;
  }
  start->error = error;
  ::_exit(127);
}

// The child's stack. The spawning thread is suspended until the child has exec'd or exited, so
// one stack per thread serves every spawn of that thread; it is made once, on first use.
constexpr std::size_t kChildStackSize = 64 * 1024;
thread_local std::unique_ptr<char[]> child_stack;

// Starts `path` with its stdio on `pipes`, in a new session, with an empty signal mask, every
// signal at its default action and the watchdog's death signal set. This is what posix_spawn
// did, plus the death signal, which posix_spawn has no attribute for: the same
// clone(CLONE_VM|CLONE_VFORK) glibc uses, so no page table is copied. Returns 0 or an errno
// value, the exec's own failure included.
int spawn_with_pipes(pid_t* pid, const std::string& path, char* const* argv, char* const* envp,
                     const StdioPipes& pipes) {
  if (!child_stack)
    child_stack = std::make_unique<char[]>(kChildStackSize);
  ChildStart start{path.c_str(), argv, envp, pipes.theirs, ::getpid()};
  // No handler of ours may run in the child, which would run it on our memory before its
  // actions are reset: every signal is held until the child has exec'd.
  sigset_t all;
  sigset_t saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  // The stack grows down: the child starts at the top of its buffer, 16-byte aligned.
  auto top =
      reinterpret_cast<std::uintptr_t>(child_stack.get() + kChildStackSize) & ~std::uintptr_t{15};
  int child =
      ::clone(&start_child, reinterpret_cast<void*>(top), CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (child < 0)
    return clone_error;
  if (start.error != 0) {
    // The child has exited (CLONE_VFORK returns only then, or after a successful exec); it is
    // not tracked by the reaper, so it is collected here.
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return start.error;
  }
  *pid = child;
  return 0;
}

} // namespace

ResolvedProgram resolve_program(std::string_view name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string_view::npos)
    return {std::string(name), {}};
  if (!name.empty()) {
    std::string_view path_var = path_variable(env);
    std::string key = cache_key(name, path_var);
    if (auto found = resolved_names.find(key); found != resolved_names.end())
      return {found->second, {}};
    std::string_view dirs = path_var;
    while (!dirs.empty()) {
      std::size_t colon = dirs.find(':');
      std::string_view dir = dirs.substr(0, colon);
      dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
      // An empty entry means the current directory, as in every shell.
      std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + std::string(name);
      if (is_executable_file(candidate)) {
        resolved_names.emplace(std::move(key), candidate);
        return {candidate, {}};
      }
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
  auto* self = static_cast<ChildProcess*>(handle->data);
  if (--self->open_handles_ > 0)
    return;
  std::function<void()> on_closed = std::move(self->on_closed_);
  delete self;
  if (on_closed)
    on_closed();
}

} // namespace ofwatchdog::process
