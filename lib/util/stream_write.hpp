#pragma once
// Writing to a libuv stream (a TCP socket, a pipe) at once, without libuv's uv_try_write.
//
// libuv 1.44's uv_try_write runs through uv_write with a request of its own and then drops the
// stream's POLLOUT interest if it had none before; a uv_write queued right after it can then
// wait for an EPOLLOUT that is never reported, and the stream stalls until some other event
// (seen under sustained backpressure: 1 in 4 responses of 1 GiB). Every writer that tries the
// kernel first and queues the rest with uv_write uses this instead.

#include <sys/uio.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>

namespace ofwatchdog::util {

// What the kernel takes at once (a short count included), UV_EAGAIN when it takes nothing or
// when libuv still has bytes queued for the stream (writing now would overtake them), or a
// negative libuv error. uv_buf_t is struct iovec on Unix.
inline int write_now(uv_stream_t* stream, const uv_buf_t* bufs, std::size_t count) {
  uv_os_fd_t fd = -1;
  if (stream->write_queue_size != 0 || uv_fileno(reinterpret_cast<uv_handle_t*>(stream), &fd) != 0)
    return UV_EAGAIN;
  int iovcnt = static_cast<int>(std::min<std::size_t>(count, IOV_MAX));
  ssize_t n;
  do {
    n = ::writev(fd, reinterpret_cast<const struct iovec*>(bufs), iovcnt);
  } while (n < 0 && errno == EINTR);
  if (n >= 0)
    return static_cast<int>(std::min<ssize_t>(n, INT_MAX));
  return errno == EAGAIN || errno == EWOULDBLOCK ? UV_EAGAIN : -errno;
}

} // namespace ofwatchdog::util
