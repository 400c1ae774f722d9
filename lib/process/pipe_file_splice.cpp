// Zero-copy moves between a pipe and a file; see pipe_file_splice.hpp.
#include "process/pipe_file_splice.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/invariant.hpp"

namespace ofwatchdog::process {

namespace {

// The most one call is asked to move: a whole pipe (the child's pipes are 1 MiB).
constexpr std::uint64_t kMaxSplice = 1u << 20;
// Calls made per wake-up before the loop gets a turn, so one big body cannot starve others.
constexpr int kStepsPerWake = 16;
// Error reports from the poll handle in a row before the transfer gives up.
constexpr int kMaxPollErrors = 8;

bool splice_allowed = true;

} // namespace

void PipeFileSplice::set_splice_allowed_for_testing(bool allowed) {
  splice_allowed = allowed;
}

PipeFileSplice::PipeFileSplice(uv_loop_t* loop) : loop_(loop) {}

PipeFileSplice::~PipeFileSplice() {
  OFW_INVARIANT(pipe_ < 0, "a pipe splice freed before its close callback ran");
}

int PipeFileSplice::start(Options options, Progress progress, Done done) {
  OFW_INVARIANT(life_ == Life::ready && pipe_ < 0, "a pipe splice started twice, or after close");
  // Close-on-exec, so that a child started by another request never inherits it.
  int copy = ::fcntl(options.pipe, F_DUPFD_CLOEXEC, 0);
  if (copy < 0)
    return -errno;
  if (int rc = uv_poll_init(loop_, &poll_, copy); rc != 0) {
    ::close(copy);
    return rc;
  }
  poll_.data = this;
  pipe_ = copy;
  // The first call is made from the loop (the pipe is almost always ready at once), so no
  // callback runs inside start. The poll stays armed for the whole transfer: it is
  // level-triggered, and each start or stop would cost an epoll_ctl.
  int events = options.direction == Direction::file_to_pipe ? UV_WRITABLE : UV_READABLE;
  if (int rc = uv_poll_start(&poll_, events, &PipeFileSplice::on_poll); rc != 0)
    return rc; // close() closes the handle
  file_ = options.file;
  direction_ = options.direction;
  offset_ = options.offset;
  left_ = options.length;
  splice_ok_ = splice_allowed;
  progress_ = std::move(progress);
  done_ = std::move(done);
  life_.move_to(Life::running);
  return 0;
}

void PipeFileSplice::on_poll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<PipeFileSplice*>(handle->data);
  if (self->life_ != Life::running)
    return;
  if (status < 0) {
    // libuv reports an error condition (EPOLLERR: a pipe without a reader) as UV_EBADF and
    // stops the handle. The next call says what really happened (EPIPE); a condition that
    // keeps coming without a call failing ends the transfer.
    if (++self->poll_errors_ > kMaxPollErrors) {
      self->finish(status);
      return;
    }
  } else {
    self->poll_errors_ = 0;
  }
  self->pump();
}

void PipeFileSplice::pump() {
  for (int i = 0; i < kStepsPerWake && step(); ++i) {
  }
  if (life_ == Life::running && !uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_))) {
    int events = direction_ == Direction::file_to_pipe ? UV_WRITABLE : UV_READABLE;
    if (int rc = uv_poll_start(&poll_, events, &PipeFileSplice::on_poll); rc != 0)
      finish(rc);
  }
}

bool PipeFileSplice::step() {
  if (life_ != Life::running)
    return false;
  std::uint64_t want = splice_ok_ ? kMaxSplice : util::kCopyScratchBytes;
  if (direction_ == Direction::file_to_pipe) {
    if (left_ == 0) {
      finish(0);
      return false;
    }
    want = std::min(want, left_);
  }
  ssize_t n = move(want);
  if (n > 0) {
    auto moved = static_cast<std::uint64_t>(n);
    offset_ += moved;
    if (direction_ == Direction::file_to_pipe)
      left_ -= moved;
    progress_(moved);
    if (life_ != Life::running)
      return false;
    if (direction_ == Direction::file_to_pipe && left_ == 0) {
      finish(0);
      return false;
    }
    // A short call almost always means the pipe is now full (file to pipe) or empty (pipe to
    // file). The next call would then only say EAGAIN, so the poll decides instead: being
    // level-triggered, it fires on the next turn anyway should the guess be wrong.
    return moved == want;
  }
  if (n == 0) {
    // The pipe's writers have all closed it; or the file ended before `length`.
    finish(direction_ == Direction::pipe_to_file ? 0 : UV_EOF);
    return false;
  }
  int error = errno;
  if (error == EINTR)
    return true;
  if (error == EAGAIN || error == EWOULDBLOCK)
    return false; // the armed poll says when the pipe is ready again
  if (splice_ok_ && (error == EINVAL || error == ENOSYS)) {
    splice_ok_ = false; // this kernel or these files cannot splice: copy the rest
    return true;
  }
  finish(-error);
  return false;
}

ssize_t PipeFileSplice::move(std::uint64_t want) {
  if (!splice_ok_)
    return copy(want);
  auto at = static_cast<loff_t>(offset_);
  ++splice_calls_;
  if (direction_ == Direction::file_to_pipe)
    return ::splice(file_, &at, pipe_, nullptr, want, SPLICE_F_NONBLOCK);
  return ::splice(pipe_, nullptr, file_, &at, want, SPLICE_F_NONBLOCK);
}

ssize_t PipeFileSplice::copy(std::uint64_t want) {
  std::size_t size =
      static_cast<std::size_t>(std::min<std::uint64_t>(want, util::kCopyScratchBytes));
  auto at = static_cast<off_t>(offset_);
  if (direction_ == Direction::file_to_pipe) {
    // What the pipe does not take stays in the file, to be read again next time: the file is
    // in memory, so that costs a copy, not a disk read.
    ssize_t n = ::pread(file_, util::copy_scratch(), size, at);
    if (n <= 0)
      return n;
    return ::write(pipe_, util::copy_scratch(), static_cast<std::size_t>(n));
  }
  ssize_t n = ::read(pipe_, util::copy_scratch(), size);
  if (n <= 0)
    return n;
  // Bytes taken from the pipe must all reach the file: a write to an in-memory file fails only
  // when no memory is left for it, which ends the process as a failed `new` would (as
  // ByteQueue's own writes do).
  for (ssize_t done = 0; done < n;) {
    ssize_t w =
        ::pwrite(file_, util::copy_scratch() + done, static_cast<std::size_t>(n - done), at + done);
    if (w < 0 && errno == EINTR)
      continue;
    OFW_INVARIANT(w > 0, "memory for the in-memory file's bytes");
    done += w;
  }
  return n;
}

void PipeFileSplice::finish(int status) {
  if (life_ != Life::running)
    return;
  uv_poll_stop(&poll_);
  life_.move_to(Life::ended);
  Done done = std::move(done_);
  done_ = nullptr;
  progress_ = nullptr;
  done(status);
}

void PipeFileSplice::close(std::function<void()> closed) {
  if (life_ == Life::closing)
    return;
  life_.move_to(Life::closing);
  done_ = nullptr;
  progress_ = nullptr;
  if (pipe_ < 0) {
    // Nothing was opened (start failed at its first steps, or never ran).
    if (closed)
      closed();
    return;
  }
  closed_ = std::move(closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &PipeFileSplice::on_closed);
}

void PipeFileSplice::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<PipeFileSplice*>(handle->data);
  // uv_close took the descriptor out of epoll; only now is our duplicate closed.
  ::close(self->pipe_);
  self->pipe_ = -1;
  // The callback may free this object: nothing of it is touched after.
  std::function<void()> closed = std::move(self->closed_);
  if (closed)
    closed();
}

} // namespace ofwatchdog::process
