#pragma once
// One request of a forking mode: the function's process, its pipes, the stderr relay and the
// exec timeout, tied to the HTTP exchange it answers. Two policies share this machinery:
// `OutputPolicy::stream` (the streaming mode, modes.md §3 with decisions C1, C2, C5-C9, B9) and
// `OutputPolicy::collect` (the serializing mode, modes.md §4 with C3-C5, C7, C9; described at
// the end of this comment).
//
// Streaming flow. The CGI environment is built and the exec-timeout clock starts at once; the function is
// spawned in its own process group. The request body is written to its stdin as it arrives
// (paused while the pipe is full; closed at the body's end; EPIPE is not an error). Its stdout
// goes to the client as it is read: the 200 head is committed with the first byte, and every
// read is sent straight away. Its stderr is relayed to the log. The request is complete when
// the process has exited and stdout and stderr have both reached EOF.
//
// Answers. Success: 200 with the output (empty when there was none). A failure (the start
// failed, a non-zero exit, a signal, the timeout) before any output: 500 with the error text as
// a `text/plain; charset=utf-8` body, since the body is that text and not the function's
// output. A failure after output began: the stream is aborted, so the client sees an incomplete
// chunked body instead of a silent success.
//
// On the timeout, a client that went away, or shutdown, the whole process group gets SIGKILL
// and the pipes are closed, so a grandchild holding stdout cannot keep the request open.
//
// Collecting flow. The exec-timeout clock starts at handler entry and the whole request body is
// read into memory first; the function is started at the body's end (or the start fails with
// `context deadline exceeded` when the clock ran out while the body arrived). The body is then
// written to stdin in pieces, each piece freed once it is queued, while stdout is collected in
// memory. At the end: 200 with `Content-Length`, `Content-Type: <content_type>` and
// `X-Duration-Seconds` (handler entry to process exit) and the output; any failure is a 500 with
// the error text (as in the streaming mode) and `X-Duration-Seconds`, the output thrown away.
// The access line has the real status (C3).
//
// Both policies refuse a body declared (Content-Length) larger than `max_body_size` with a 413
// before the function starts; the collect policy also refuses a chunked body as soon as it
// passes the limit, while the function has not started yet (it only starts at the body's end).
//
// The object owns itself: it is deleted once the exchange is over and its process handle and
// timer have closed. Nothing is deleted inside its own call stack (see `Entry`).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <uv.h>

#include "modes/byte_queue.hpp"
#include "modes/static/file_body.hpp"
#include "ofwatchdog/exchange.hpp"
#include "util/call_depth_guard.hpp"
#include "ofwatchdog/mode_strategy.hpp"
#include "ofwatchdog/request_job.hpp"
#include "process/child_process.hpp"
#include "process/output_relay.hpp"

namespace ofwatchdog::modes {

class ForkExchange;

// What a forking mode does with the request body and the function's stdout.
enum class OutputPolicy {
  stream,  // body to stdin as it arrives, stdout to the client as it is read
  collect, // whole body first, stdout collected and sent with Content-Length at the end
};

class ForkExchange final : public RequestJob, private process::OutputSink {
public:
  // Serves `exchange`; everything after this happens in callbacks.
  static void start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                    std::shared_ptr<JobRegistry> registry, OutputPolicy policy);

  // The watchdog is stopping: kill the function and finish as soon as it is reaped.
  void shut_down() override;

  // ExchangeHandler: the request body and the client side.
  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

private:
  // Every entry point holds one: see util/call_depth_guard.hpp.
  using Entry = CallDepthGuard<ForkExchange>;
  friend class CallDepthGuard<ForkExchange>;

  ForkExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
               std::shared_ptr<JobRegistry> registry, OutputPolicy policy);
  ~ForkExchange() override;

  // RequestJob: a 413 or 431 is this request's whole answer; the deadline kills the function.
  void on_refused(int status, const std::string& text) override;
  void on_deadline() override;

  void run();
  // Starts the function and its pipes; on failure completes the request and returns false.
  bool spawn_function();
  // Collect policy: moves buffered body pieces into the stdin pipe while it has room.
  void feed_stdin();
  void on_timeout();
  void on_exit(const process::ExitStatus& status);
  void on_stdin_written(int status);
  void stop_feeding_stdin();
  void kill_and_abandon(std::string_view why);
  void maybe_complete();
  void complete();
  std::string failure_text() const;
  void respond(const std::string& error);
  void respond_collected(const std::string& error);
  // Collect policy: sends the output's in-memory file as the rest of the body, if it has one
  // worth it; returns false when the caller must copy the rest itself.
  bool send_output_file();
  void on_output_file_sent(int status);
  // The answer to a request refused before its function could run (the 413 for a body over
  // max_body_size, the 431 for headers that cannot become its environment), and its log line.
  void respond_refusal();
  void log_request(std::string_view status, const std::string& error);
  void release();
  void destroy_if_finished();

  // Streaming policy, fork_exchange_splice.cpp: a large Content-Length body goes from the
  // socket into stdin, and stdout into the socket, with splice(2) when the exchange allows it.
  // A running splice ends with the exchange (finish, abort or cancellation) at the latest.
  void try_splice_body();
  void maybe_splice_output();
  void on_body_splice_done(int status);
  void on_output_splice_done(int status);

  // process::OutputSink, for stdout.
  void on_output(std::string_view data) override;
  void on_output_end(int status) override;

  OutputPolicy policy_;
  std::optional<std::uint64_t> exited_ns_;

  process::ChildProcess* child_ = nullptr;
  std::optional<process::OutputRelay> relay_;
  // Why the function never ran: its start failed, or (collect policy) the deadline passed or
  // the request ended while the body was still being read.
  std::string spawn_error_;
  // Collect policy: the body still to be written to stdin, and the output read so far, in
  // mapped blocks that go back to the system as they are consumed (see byte_queue.hpp).
  ByteQueue body_;
  std::uint64_t body_bytes_ = 0; // collect policy: body bytes received so far
  // Set when the request is refused instead of served; the function never runs.
  struct Refusal {
    int status;
    std::string text;
  };
  std::optional<Refusal> refusal_;
  // The function's environment, built (and checked) when the request arrives.
  std::vector<std::string> environment_;
  ByteQueue output_;
  std::optional<process::ExitStatus> exit_status_;
  // Collect policy: the output's file on its way to the client, and its length (for the log).
  std::optional<static_files::FileBody> output_body_;
  std::uint64_t output_file_bytes_ = 0;

  bool body_splice_active_ = false;   // the exchange is splicing the body into stdin
  bool output_splice_active_ = false; // the exchange is splicing stdout into the socket

  int closes_pending_ = 0;
  int depth_ = 0;

  bool response_open_ = true; // false once the exchange is cancelled or answered
  bool body_paused_ = false;
  bool stdin_done_ = false; // no more body goes to stdin (closed, or the function left it)
  bool stdout_paused_ = false;
  bool stdout_done_ = false;
  bool stderr_done_ = false;
  bool timed_out_ = false;
  bool killed_ = false;
  bool completed_ = false;
};

} // namespace ofwatchdog::modes
