// Pages given back on the thread pool; see file_release.hpp.
#include "modes/file_release.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace ofwatchdog::modes {

namespace {

struct ReleaseJob {
  uv_work_t req{};
  int fd = -1;
  std::uint64_t from = 0;
  std::uint64_t to = 0; // equal to `from`: only the close
};

void punch(int fd, std::uint64_t from, std::uint64_t to) {
  // A failure only leaves the pages until the file is closed.
  (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                    static_cast<off_t>(to - from));
}

void run(uv_work_t* req) {
  auto* job = static_cast<ReleaseJob*>(req->data);
  if (job->to > job->from)
    punch(job->fd, job->from, job->to);
  ::close(job->fd);
}

void done(uv_work_t* req, int) {
  delete static_cast<ReleaseJob*>(req->data);
}

// Queues the job, or runs it at once when the pool cannot take it.
void queue(uv_loop_t* loop, int fd, std::uint64_t from, std::uint64_t to) {
  auto* job = new ReleaseJob;
  job->req.data = job;
  job->fd = fd;
  job->from = from;
  job->to = to;
  if (uv_queue_work(loop, &job->req, &run, &done) != 0) {
    run(&job->req);
    delete job;
  }
}

} // namespace

void punch_later(uv_loop_t* loop, int fd, std::uint64_t from, std::uint64_t to) {
  if (to <= from)
    return;
  // Close-on-exec, so that no function started meanwhile inherits it.
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    punch(fd, from, to);
    return;
  }
  queue(loop, copy, from, to);
}

void close_later(uv_loop_t* loop, int fd) {
  queue(loop, fd, 0, 0);
}

} // namespace ofwatchdog::modes
