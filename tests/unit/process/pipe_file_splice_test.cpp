// PipeFileSplice: a file's range into a pipe and a pipe into a file, with splice(2) and with the
// copying fallback, on a real loop; the ends a function's pipes can come to (a reader that goes
// away, a writer that closes, no room left in the file).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>

#include "process/pipe_file_splice.hpp"
#include "test_bytes.hpp"
#include "test_loop.hpp"

using ofwatchdog::process::PipeFileSplice;
using ofwatchdog::testing::TestLoop;

using ofwatchdog::testing::memfd_with;
using ofwatchdog::testing::pattern;

namespace {

std::string file_bytes(int fd, std::uint64_t offset, std::size_t length) {
  std::string out(length, '\0');
  REQUIRE(::pread(fd, out.data(), length, static_cast<off_t>(offset)) ==
          static_cast<ssize_t>(length));
  return out;
}

// A non-blocking pipe whose ends the test owns ([0] read, [1] write).
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0); }
  ~Pipe() {
    close_end(0);
    close_end(1);
  }
  void close_end(int i) {
    if (fds[i] >= 0)
      ::close(fds[i]);
    fds[i] = -1;
  }
};

// Reads a descriptor on the loop until its end, into `data`.
struct Reader {
  uv_pipe_t handle{};
  std::string data;
  bool ended = false;
  Reader(uv_loop_t* loop, int& fd) {
    REQUIRE(uv_pipe_init(loop, &handle, 0) == 0);
    REQUIRE(uv_pipe_open(&handle, fd) == 0);
    fd = -1; // the handle owns it now
    handle.data = this;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&handle),
        [](uv_handle_t*, std::size_t, uv_buf_t* buf) {
          static char buffer[64 * 1024];
          *buf = uv_buf_init(buffer, sizeof buffer);
        },
        [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
          auto* self = static_cast<Reader*>(stream->data);
          if (n > 0)
            self->data.append(buf->base, static_cast<std::size_t>(n));
          else if (n < 0)
            self->stop();
        });
  }
  void stop() {
    if (ended)
      return;
    ended = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle), nullptr);
  }
};

// Writes `data` into a descriptor on the loop, then closes it.
struct Writer {
  uv_pipe_t handle{};
  uv_write_t req{};
  std::string data;
  Writer(uv_loop_t* loop, int& fd, std::string bytes) : data(std::move(bytes)) {
    REQUIRE(uv_pipe_init(loop, &handle, 0) == 0);
    REQUIRE(uv_pipe_open(&handle, fd) == 0);
    fd = -1;
    handle.data = this;
    uv_buf_t buf = uv_buf_init(data.data(), static_cast<unsigned>(data.size()));
    REQUIRE(
        uv_write(&req, reinterpret_cast<uv_stream_t*>(&handle), &buf, 1, [](uv_write_t* r, int) {
          uv_close(reinterpret_cast<uv_handle_t*>(r->handle), nullptr);
        }) == 0);
  }
};

struct Outcome {
  std::optional<int> status;
  std::uint64_t moved = 0;
  bool closed = false;
};

// Starts `splice` with callbacks recording into `out`.
void start(PipeFileSplice& splice, PipeFileSplice::Options options, Outcome& out) {
  REQUIRE(splice.start(
              std::move(options), [&out](std::uint64_t n) { out.moved += n; },
              [&out](int status) { out.status = status; }) == 0);
}

void close_and_wait(TestLoop& loop, PipeFileSplice& splice, Outcome& out) {
  splice.close([&out] { out.closed = true; });
  loop.run_until([&] { return out.closed; });
}

// Every case runs with splice(2) and with the copying fallback.
struct SpliceAllowed {
  explicit SpliceAllowed(bool allowed) { PipeFileSplice::set_splice_allowed_for_testing(allowed); }
  ~SpliceAllowed() { PipeFileSplice::set_splice_allowed_for_testing(true); }
};

} // namespace

TEST_CASE("a file range larger than the pipe goes into it whole", "[pipe_file_splice]") {
  bool allowed = GENERATE(true, false);
  SpliceAllowed mode(allowed);
  TestLoop loop;
  std::string data = pattern(5 * 1024 * 1024 + 123, 1);
  int file = memfd_with(data);
  Pipe pipe;
  Reader reader(loop.get(), pipe.fds[0]);
  PipeFileSplice splice(loop.get());
  Outcome out;
  PipeFileSplice::Options options;
  options.direction = PipeFileSplice::Direction::file_to_pipe;
  options.pipe = pipe.fds[1];
  options.file = file;
  options.offset = 1000;
  options.length = data.size() - 1000;
  start(splice, options, out);
  CHECK_FALSE(out.status); // never from inside start
  pipe.close_end(1);       // the splice writes through its own duplicate
  loop.run_until([&] { return out.status.has_value(); });
  CHECK(*out.status == 0);
  CHECK(out.moved == data.size() - 1000);
  CHECK((splice.splice_calls() > 0) == allowed);
  CHECK(splice.copying() == !allowed);
  close_and_wait(loop, splice, out); // the duplicate closes: the reader sees the end
  loop.run_until([&] { return reader.ended; });
  CHECK(reader.data == data.substr(1000));
  ::close(file);
}

TEST_CASE("a pipe goes into a file until its writers close it", "[pipe_file_splice]") {
  bool allowed = GENERATE(true, false);
  SpliceAllowed mode(allowed);
  TestLoop loop;
  std::string data = pattern(3 * 1024 * 1024 + 7, 2);
  int file = memfd_with("prefix");
  Pipe pipe;
  Writer writer(loop.get(), pipe.fds[1], data);
  PipeFileSplice splice(loop.get());
  Outcome out;
  PipeFileSplice::Options options;
  options.direction = PipeFileSplice::Direction::pipe_to_file;
  options.pipe = pipe.fds[0];
  options.file = file;
  options.offset = 6;
  start(splice, options, out);
  pipe.close_end(0);
  loop.run_until([&] { return out.status.has_value(); });
  CHECK(*out.status == 0);
  CHECK(out.moved == data.size());
  CHECK(file_bytes(file, 0, 6 + data.size()) == "prefix" + data);
  close_and_wait(loop, splice, out);
  ::close(file);
}

TEST_CASE("a pipe whose reader went away ends the transfer with EPIPE", "[pipe_file_splice]") {
  bool allowed = GENERATE(true, false);
  SpliceAllowed mode(allowed);
  std::signal(SIGPIPE, SIG_IGN); // as the watchdog does
  TestLoop loop;
  std::string data = pattern(4 * 1024 * 1024, 3);
  int file = memfd_with(data);
  Pipe pipe;
  PipeFileSplice splice(loop.get());
  Outcome out;
  PipeFileSplice::Options options;
  options.direction = PipeFileSplice::Direction::file_to_pipe;
  options.pipe = pipe.fds[1];
  options.file = file;
  options.length = data.size();
  start(splice, options, out);
  pipe.close_end(0); // nobody reads: the pipe fills, then has no reader
  loop.run_until([&] { return out.status.has_value(); });
  CHECK(*out.status == UV_EPIPE);
  CHECK(out.moved < data.size());
  close_and_wait(loop, splice, out);
  ::close(file);
}

TEST_CASE("a file shorter than the range ends the transfer with EOF", "[pipe_file_splice]") {
  TestLoop loop;
  int file = memfd_with("short");
  Pipe pipe;
  Reader reader(loop.get(), pipe.fds[0]);
  PipeFileSplice splice(loop.get());
  Outcome out;
  PipeFileSplice::Options options;
  options.direction = PipeFileSplice::Direction::file_to_pipe;
  options.pipe = pipe.fds[1];
  options.file = file;
  options.length = 100;
  start(splice, options, out);
  pipe.close_end(1);
  loop.run_until([&] { return out.status.has_value(); });
  CHECK(*out.status == UV_EOF);
  CHECK(out.moved == 5);
  close_and_wait(loop, splice, out);
  loop.run_until([&] { return reader.ended; });
  CHECK(reader.data == "short");
  ::close(file);
}

TEST_CASE("closing a running transfer calls nothing back", "[pipe_file_splice]") {
  TestLoop loop;
  int file = memfd_with("");
  Pipe pipe;
  PipeFileSplice splice(loop.get());
  Outcome out;
  PipeFileSplice::Options options;
  options.direction = PipeFileSplice::Direction::pipe_to_file;
  options.pipe = pipe.fds[0];
  options.file = file;
  start(splice, options, out);
  REQUIRE(::write(pipe.fds[1], "x", 1) == 1);
  close_and_wait(loop, splice, out);
  CHECK_FALSE(out.status);
  CHECK(out.moved == 0);
  ::close(file);
}
