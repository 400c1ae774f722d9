// Zero-copy bodies between a socket and a pipe; see body_splice.hpp.
#include "http/body_splice.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "http/response_writer.hpp"
#include "util/invariant.hpp"

namespace ofwatchdog::http {

namespace {

// The most one splice call is asked to move (the pipes are 1 MiB).
constexpr std::size_t kMaxSplice = 1u << 20;
// Steps taken per wake-up before the loop gets a turn, so one big body cannot starve others.
constexpr int kStepsPerWake = 64;
// Error reports from the poll handles in a row before the transfer gives up.
constexpr int kMaxPollErrors = 8;

bool is_socket(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

} // namespace

BodySplice::BodySplice(uv_loop_t* loop) : loop_(loop) {}

BodySplice::~BodySplice() {
  // Freed only after close()'s callback: anything still open here is a broken invariant.
  OFW_INVARIANT(handles_open_ == 0 && fds_[0] < 0 && fds_[1] < 0,
                "a splice freed before its close callback ran");
}

int BodySplice::start(Options options, Progress progress, Done done) {
  OFW_INVARIANT(life_ == Life::ready && handles_open_ == 0,
                "a splice started twice, or after close");
  int fds[2] = {options.source, options.sink};
  for (int i = 0; i < 2; ++i) {
    // Close-on-exec, so that a child started by another request never inherits them.
    int copy = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
      return -errno;
    fds_[i] = copy;
    if (int rc = uv_poll_init(loop_, &polls_[i], copy); rc != 0)
      return rc; // close() closes what was made
    polls_[i].data = this;
    ++handles_open_;
  }
  source_is_socket_ = is_socket(fds_[0]);
  sink_is_socket_ = is_socket(fds_[1]);
  chunked_ = options.chunked;
  drain_ = options.drain_on_sink_error && options.length.has_value();
  left_ = options.length;
  if (left_)
    *left_ -= std::min<std::uint64_t>(*left_, options.prefix.size());
  pending_ = std::move(options.prefix);
  pending_pos_ = 0;
  progress_ = std::move(progress);
  done_ = std::move(done);
  life_.move_to(Life::running);
  // The first step runs from the loop (the sink is almost always writable at once), so that no
  // callback ever runs inside start.
  wait_for(Wait::sink);
  return 0;
}

void BodySplice::on_poll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<BodySplice*>(handle->data);
  if (self->life_ != Life::running)
    return;
  if (status < 0) {
    // libuv reports an error condition (EPOLLERR: a pipe without a reader, a reset socket) as
    // UV_EBADF and stops the handle. The next call on the descriptor says what really happened
    // (EPIPE, which a draining transfer survives), so the step is retried; a condition that
    // keeps coming without a call failing ends the transfer.
    self->waiting_ = Wait::none;
    if (++self->poll_errors_ > kMaxPollErrors) {
      self->finish(status, handle == &self->polls_[1]);
      return;
    }
  } else {
    self->poll_errors_ = 0;
  }
  if (handle == &self->polls_[0] && self->source_ != Source::ended)
    self->source_ = Source::woke;
  self->pump();
}

void BodySplice::pump() {
  for (int i = 0; i < kStepsPerWake; ++i) {
    if (life_ != Life::running || !step())
      return;
  }
  // Still busy: give the loop a turn and go on when the sink can take more (at once, usually).
  wait_for(Wait::sink);
}

bool BodySplice::step() {
  if (pending_pos_ < pending_.size())
    return write_pending();
  if (sink_ == Sink::discarding)
    return drain_source();
  if (left_ && *left_ == 0) {
    finish(0, false);
    return false;
  }
  if (chunked_ && chunk_left_ == 0)
    return next_chunk();
  return move_payload();
}

bool BodySplice::write_pending() {
  const char* data = pending_.data() + pending_pos_;
  std::size_t size = pending_.size() - pending_pos_;
  ssize_t n;
  if (sink_is_socket_) {
    int flags = MSG_DONTWAIT | MSG_NOSIGNAL | (pending_more_ ? MSG_MORE : 0);
    n = ::send(fds_[1], data, size, flags);
  } else {
    n = ::write(fds_[1], data, size);
  }
  if (n < 0) {
    if (errno == EINTR)
      return true;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(Wait::sink);
      return false;
    }
    int error = -errno;
    if (drain_ && error == UV_EPIPE) {
      pending_.clear();
      pending_pos_ = 0;
      sink_stopped();
      return true;
    }
    finish(error, true);
    return false;
  }
  pending_pos_ += static_cast<std::size_t>(n);
  if (pending_pos_ == pending_.size()) {
    pending_.clear();
    pending_pos_ = 0;
    if (source_ == Source::ended) {
      finish(0, false);
      return false;
    }
  }
  return true;
}

bool BodySplice::next_chunk() {
  int available = 0;
  if (::ioctl(fds_[0], FIONREAD, &available) != 0) {
    finish(-errno, false);
    return false;
  }
  if (available > 0) {
    if (source_ == Source::woke)
      source_ = Source::quiet;
    chunk_left_ = static_cast<std::uint64_t>(available);
    char line[24];
    std::string_view header = chunk_header(line, static_cast<std::size_t>(available));
    pending_.assign(trailer_owed_ ? "\r\n" : "");
    pending_.append(header);
    trailer_owed_ = false;
    pending_more_ = true; // the chunk's data follows at once
    return true;
  }
  if (source_ == Source::woke) {
    // Readable with nothing to read: every writer has closed the pipe.
    source_ = Source::ended;
    if (!trailer_owed_) {
      finish(0, false);
      return false;
    }
  }
  if (trailer_owed_) {
    // The pipe is empty for now: end the chunk on the wire so the client has all of it.
    trailer_owed_ = false;
    pending_.assign("\r\n");
    pending_more_ = false;
    return true;
  }
  wait_for(Wait::source);
  return false;
}

bool BodySplice::move_payload() {
  std::uint64_t want = kMaxSplice;
  if (chunked_)
    want = std::min<std::uint64_t>(want, chunk_left_);
  if (left_)
    want = std::min<std::uint64_t>(want, *left_);
  ssize_t n;
  if (splice_ok_) {
    ++splice_calls_;
    n = ::splice(fds_[0], nullptr, fds_[1], nullptr, static_cast<std::size_t>(want),
                 SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
  } else {
    // Fallback: through user space; what the sink does not take at once waits in pending_.
    n = ::read(fds_[0], util::copy_scratch(),
               std::min<std::uint64_t>(want, util::kCopyScratchBytes));
    if (n > 0)
      pending_.assign(util::copy_scratch(), static_cast<std::size_t>(n));
  }
  if (n > 0) {
    auto moved = static_cast<std::uint64_t>(n);
    if (left_)
      *left_ -= moved;
    if (chunked_) {
      chunk_left_ -= moved;
      trailer_owed_ = chunk_left_ == 0;
    }
    pending_more_ = false;
    progress_(moved);
    return life_ == Life::running;
  }
  if (n == 0) {
    if (left_) {
      finish(UV_EOF, false);
    } else {
      source_ = Source::ended;
      finish(0, false);
    }
    return false;
  }
  int error = errno;
  if (error == EINTR)
    return true;
  if (error == EAGAIN || error == EWOULDBLOCK)
    return on_would_block();
  if (splice_ok_ && (error == EINVAL || error == ENOSYS)) {
    splice_ok_ = false; // this kernel or these files cannot splice: copy the rest
    return true;
  }
  // A pipe sink that lost its reader says EPIPE; a socket says EPIPE or ECONNRESET.
  bool sink_side = error == EPIPE || (sink_is_socket_ && !source_is_socket_);
  if (sink_side && drain_) {
    sink_stopped();
    return true;
  }
  finish(-error, sink_side);
  return false;
}

bool BodySplice::on_would_block() {
  if (chunked_ || !splice_ok_) {
    // Chunked: the pipe holds at least the chunk's bytes, so the socket is full. Fallback: only
    // the read can say EAGAIN here.
    wait_for(chunked_ && splice_ok_ ? Wait::sink : Wait::source);
    return false;
  }
  struct pollfd fds[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLOUT, 0}};
  if (::poll(fds, 2, 0) < 0) {
    wait_for(Wait::source);
    return false;
  }
  if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
    wait_for(Wait::source);
    return false;
  }
  if ((fds[1].revents & (POLLOUT | POLLHUP | POLLERR)) == 0) {
    wait_for(Wait::sink);
    return false;
  }
  // Both ready by now: try again, from the loop so a flapping pair cannot spin here.
  wait_for(Wait::sink);
  return false;
}

bool BodySplice::drain_source() {
  std::size_t want = util::kCopyScratchBytes;
  if (left_)
    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *left_));
  if (want == 0) {
    finish(0, false);
    return false;
  }
  ssize_t n = ::read(fds_[0], util::copy_scratch(), want);
  if (n > 0) {
    if (left_)
      *left_ -= static_cast<std::uint64_t>(n);
    return true;
  }
  if (n == 0) {
    finish(UV_EOF, false);
    return false;
  }
  if (errno == EINTR)
    return true;
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    wait_for(Wait::source);
    return false;
  }
  finish(-errno, false);
  return false;
}

void BodySplice::wait_for(Wait what) {
  // Each start or stop costs an epoll_ctl, so a watch that is already right is left alone.
  if (what == waiting_)
    return;
  if (waiting_ != Wait::none)
    uv_poll_stop(&polls_[waiting_ == Wait::source ? 0 : 1]);
  waiting_ = what;
  if (what == Wait::none)
    return;
  int index = what == Wait::source ? 0 : 1;
  int rc = uv_poll_start(&polls_[index], what == Wait::source ? UV_READABLE : UV_WRITABLE,
                         &BodySplice::on_poll);
  if (rc != 0) {
    waiting_ = Wait::none;
    // Reported from the loop, never inside start: a zero-delay retry is not worth a timer
    // handle for a failure that means the descriptor is unusable; the owner's timeouts end it.
    life_.move_to(Life::ended);
  }
}

void BodySplice::sink_stopped() {
  OFW_INVARIANT(sink_ == Sink::taking, "a splice's sink stopped twice");
  sink_ = Sink::discarding;
}

void BodySplice::finish(int status, bool sink_side) {
  if (life_ != Life::running)
    return;
  wait_for(Wait::none);
  life_.move_to(Life::ended);
  if (status < 0 && sink_side)
    sink_ = Sink::failed;
  Done done = std::move(done_);
  done_ = nullptr;
  progress_ = nullptr;
  done(status);
}

void BodySplice::close(std::function<void()> closed) {
  if (life_ == Life::closing)
    return;
  if (life_ == Life::running)
    wait_for(Wait::none);
  life_.move_to(Life::closing);
  done_ = nullptr;
  progress_ = nullptr;
  closed_ = std::move(closed);
  // A duplicate without a poll handle (start failed half way) is closed now.
  for (int i = handles_open_; i < 2; ++i) {
    if (fds_[i] >= 0)
      ::close(fds_[i]);
    fds_[i] = -1;
  }
  if (handles_open_ == 0) {
    std::function<void()> done_closing = std::move(closed_);
    closed_ = nullptr;
    if (done_closing)
      done_closing();
    return;
  }
  int to_close = handles_open_;
  for (int i = 0; i < to_close; ++i)
    uv_close(reinterpret_cast<uv_handle_t*>(&polls_[i]), &BodySplice::on_closed);
}

void BodySplice::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<BodySplice*>(handle->data);
  int index = handle == reinterpret_cast<uv_handle_t*>(&self->polls_[0]) ? 0 : 1;
  // uv_close took the descriptor out of epoll; only now is our duplicate closed.
  if (self->fds_[index] >= 0) {
    ::close(self->fds_[index]);
    self->fds_[index] = -1;
  }
  if (--self->handles_open_ > 0)
    return;
  std::function<void()> closed = std::move(self->closed_);
  self->closed_ = nullptr;
  if (closed)
    closed();
}

} // namespace ofwatchdog::http
