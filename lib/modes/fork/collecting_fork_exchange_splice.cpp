// CollectingForkExchange: the held body and the collected output moved by the kernel with
// splice(2), so that neither passes through user space beyond the first bytes: a large
// Content-Length body from the socket into its in-memory file (body_intake.hpp), the body's file
// into stdin without a copy (the pipe takes references to the file's pages), and stdout beyond
// 80 KiB into the output's file with one copy in the kernel instead of a read and a write
// (process/pipe_file_splice.hpp). This file decides when to ask; whenever a move cannot start,
// the bytes go on the ordinary way (on_body, feed_stdin, take_output).

#include "modes/fork/collecting_fork_exchange.hpp"
#include "modes/fork/splice_switch.hpp"

namespace ofwatchdog::modes {

namespace {

// Smaller bodies stay on the ordinary way: setting the splices up costs about a dozen calls, and
// the exchange splices only bodies it could not cheaply drop should the answer come first.
constexpr std::uint64_t kSpliceBodyAbove = 256 * 1024;

} // namespace

void CollectingForkExchange::take_body_in() {
  if (splice_disabled() || completed() || child_ != nullptr)
    return;
  std::optional<std::uint64_t> length = exchange_->request().content_length;
  if (!length || *length <= kSpliceBodyAbove)
    return;
  intake_.emplace(context_.loop);
  bool started = intake_->start(
      *exchange_, body_, [this](std::uint64_t bytes) { body_bytes_ += bytes; },
      [this] { on_body_end(); });
  if (!started)
    intake_.reset(); // the body comes through on_body
}

bool CollectingForkExchange::splice_stdin() {
  if (stdin_splice_ == Splice::running)
    return true;
  if (stdin_splice_ == Splice::refused || splice_disabled())
    return false;
  // The first bytes, in heap blocks, are written as usual; the file's bytes follow them.
  std::optional<ByteQueue::FileRange> range = body_.file_range();
  if (!range)
    return false;
  if (child_->stdin_writes_pending())
    return true; // on_stdin_room comes back here once they are out
  bool started = child_->splice_stdin_from(
      range->fd, range->offset, range->length,
      // Consumed as it goes, so the file's pages go back to the system a megabyte at a time
      // (on the thread pool: ByteQueue::release_on).
      [this](std::uint64_t bytes) { body_.consume(static_cast<std::size_t>(bytes)); },
      [this](int status) { on_stdin_splice_done(status); });
  // Not started (out of descriptors, most likely): copied instead, as before.
  stdin_splice_ = started ? Splice::running : Splice::refused;
  return started;
}

void CollectingForkExchange::on_stdin_splice_done(int status) {
  if (status == UV_EPIPE) {
    // The function closed stdin or exited without reading it all: allowed (unread-stdin).
    stdin_splice_ = Splice::ready;
    stop_feeding_stdin();
    return;
  }
  // 0: the whole body is in the pipe, and feed_stdin closes stdin. Another error: the file gave
  // no more, and feed_stdin copies the rest the ordinary way, which meets the same failure.
  stdin_splice_ = status == 0 ? Splice::ready : Splice::refused;
  feed_stdin();
}

void CollectingForkExchange::maybe_splice_output() {
  if (output_splice_ != Splice::ready || splice_disabled() || child_ == nullptr || stdout_done_ ||
      !response_open())
    return;
  // The first bytes go into heap blocks; only what would go into the file is spliced. (With
  // cgi_headers, take_output sees bytes only once the head is whole.)
  std::optional<ByteQueue::FileEnd> end = output_.file_end();
  if (!end)
    return;
  bool started = child_->splice_output_to(
      process::Stdio::out, end->fd, end->offset,
      [this](std::uint64_t bytes) { output_.appended_to_file(bytes); },
      [this](int status) { on_output_splice_done(status); });
  output_splice_ = started ? Splice::running : Splice::refused;
}

void CollectingForkExchange::on_output_splice_done(int status) {
  // 0: stdout ended, and on_output_end follows. An error: the file took no more, and stdout is
  // read into take_output again from where the splice stopped (the ordinary way then meets the
  // same failure).
  output_splice_ = status == 0 ? Splice::ready : Splice::refused;
}

} // namespace ofwatchdog::modes
