// A request body moved by the kernel from the socket into a queue's file; see body_intake.hpp.
#include "modes/fork/body_intake.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "util/invariant.hpp"

namespace ofwatchdog::modes {

namespace {

// The pipe between the socket and the file: as large as the function's pipes, so one call
// each way moves up to a megabyte. The system may allow less; the default then stays.
constexpr int kPipeSize = 1 << 20;

} // namespace

bool BodyIntake::start(Exchange& exchange, ByteQueue& queue, Progress progress, Done done) {
  if (stage_ != Stage::idle || !queue.empty())
    return false;
  queue.prefer_file();
  std::optional<ByteQueue::FileEnd> end = queue.file_end();
  int fds[2] = {-1, -1};
  if (!end || ::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    queue.clear(); // as it was: the ordinary way starts with heap blocks again
    return false;
  }
  (void)::fcntl(fds[1], F_SETPIPE_SZ, kPipeSize);
  auto* splice = new process::PipeFileSplice(loop_);
  process::PipeFileSplice::Options options;
  options.direction = process::PipeFileSplice::Direction::pipe_to_file;
  options.pipe = fds[0];
  options.file = end->fd;
  options.offset = end->offset;
  int rc = splice->start(
      options,
      [this](std::uint64_t bytes) {
        queue_->appended_to_file(bytes);
        progress_(bytes);
      },
      [this](int status) { on_file_done(status); });
  ::close(fds[0]); // the splice reads its own duplicate
  // The exchange splices the socket into the pipe from here on; a refusal leaves the body with
  // the connection, untouched.
  if (rc != 0 ||
      !exchange.splice_body_to(fds[1], [this](int, std::uint64_t) { on_socket_done(); })) {
    retire(splice);
    ::close(fds[1]);
    queue.clear();
    return false;
  }
  splice_ = splice;
  write_end_ = fds[1];
  queue_ = &queue;
  progress_ = std::move(progress);
  done_ = std::move(done);
  stage_ = Stage::filling;
  return true;
}

void BodyIntake::on_socket_done() {
  // The exchange reports only a body that arrived whole (a failure cancels it instead), and has
  // closed its duplicate of our write end. Once ours is closed too, the pipe ends after its last
  // byte.
  if (stage_ != Stage::filling)
    return;
  ::close(write_end_);
  write_end_ = -1;
  stage_ = Stage::draining;
}

void BodyIntake::on_file_done(int status) {
  // A pipe splice fails only when the in-memory file takes no more, which ends the process as
  // a failed `new` would, as ByteQueue's own writes do.
  OFW_INVARIANT(status == 0, "memory for the in-memory file's bytes");
  // Our write end is open until the exchange is done, so the pipe cannot end before.
  OFW_INVARIANT(stage_ == Stage::draining, "the body's pipe ended while it was being filled");
  stage_ = Stage::ended;
  retire(splice_);
  splice_ = nullptr;
  Done done = std::move(done_);
  done_ = nullptr;
  progress_ = nullptr;
  done();
}

void BodyIntake::close() {
  stage_ = Stage::ended;
  if (splice_ != nullptr) {
    retire(splice_);
    splice_ = nullptr;
  }
  if (write_end_ >= 0) {
    ::close(write_end_);
    write_end_ = -1;
  }
  done_ = nullptr;
  progress_ = nullptr;
}

void BodyIntake::retire(process::PipeFileSplice* splice) {
  splice->close([splice] { delete splice; });
}

} // namespace ofwatchdog::modes
