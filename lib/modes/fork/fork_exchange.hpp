#pragma once
// One request of a forking mode: the function's process, its pipes, the stderr relay and the
// exec timeout, tied to the HTTP exchange it answers. Two kinds share this machinery, each its
// own type: StreamingForkExchange (the streaming mode, docs/streaming.md;
// streaming_fork_exchange.hpp) and CollectingForkExchange (the serializing mode,
// docs/serializing.md; collecting_fork_exchange.hpp), described below. The rules both follow are
// in docs/decisions.md ("Fork modes" and x-timeout). This base owns the process, its exit,
// stderr, the kill, the failure text, refusals and the access line; the kinds own what they do
// with the body and the output.
//
// Streaming flow. The CGI environment is built and the exec-timeout clock starts at once; the
// function is spawned in its own process group. The request body is written to its stdin as it
// arrives (paused while the pipe is full; closed at the body's end; EPIPE is not an error). Its
// stdout goes to the client as it is read: the 200 head is committed with the first byte, and every
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
// The access line has the real status (docs/decisions.md, serializing-access-status).
//
// Both policies refuse a body declared (Content-Length) larger than `max_body_size` with a 413
// before the function starts; the collect policy also refuses a chunked body as soon as it
// passes the limit, while the function has not started yet (it only starts at the body's end).
//
// Its mode's registry owns it (request_job.hpp): it finishes when the request is complete, and
// RequestJob destroys it once the process handle has closed (and, collecting, once the output's
// file has been sent).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <uv.h>

#include "modes/cgi_head.hpp"
#include "ofwatchdog/exchange.hpp"
#include "ofwatchdog/mode_strategy.hpp"
#include "ofwatchdog/request_job.hpp"
#include "process/child_process.hpp"
#include "process/output_relay.hpp"

namespace ofwatchdog::modes {

// The type of a failure's 500: its body is the error text, not the function's output.
inline constexpr std::string_view kFunctionErrorContentType = "text/plain; charset=utf-8";

// Body bytes waiting in the stdin pipe's queue above which no more are offered: streaming pauses
// the request body there, collecting stops feeding its held body, so the body is not held twice.
inline constexpr std::size_t kStdinHighWater = 64 * 1024;

// Which kind of request a forking mode serves.
enum class OutputPolicy {
  stream,  // StreamingForkExchange: body to stdin as it arrives, stdout to the client as read
  collect, // CollectingForkExchange: whole body first, output sent with Content-Length at the end
};

class ForkExchange : public RequestJob, private process::OutputSink {
public:
  // Serves `exchange` with the kind `policy` names; everything after this happens in callbacks.
  static void start(const ModeContext& context, std::shared_ptr<Exchange> exchange,
                    std::shared_ptr<JobRegistry> registry, OutputPolicy policy);

  // The watchdog is stopping: kill the function and finish as soon as it is reaped.
  void shut_down() override;
  void on_cancel(CancelReason reason) override;

protected:
  ForkExchange(const ModeContext& context, std::shared_ptr<Exchange> exchange,
               std::shared_ptr<JobRegistry> registry);
  ~ForkExchange() override;

  // --- what each kind does -------------------------------------------------------------------
  // After the common checks passed and the deadline started: start the function, or the body.
  virtual void begin() = 0;
  // stdin has room again (a queued write completed).
  virtual void on_stdin_room() = 0;
  // stdin is gone (closed, or the function left it): drop what was held for it.
  virtual void on_stdin_gone() {}
  // A piece of the function's stdout, while the response is open.
  virtual void take_output(std::string_view data) = 0;
  // The answer, once the function is over (`error` empty on success), while the response is
  // open. It ends the exchange, or starts a transfer that ends it (`answer_in_flight`).
  virtual void answer(const std::string& error) = 0;
  // cgi_headers: the function's CGI head is whole (streaming sends it at once).
  virtual void on_cgi_head() {}
  // The answer is still being sent after `complete`: the exchange stays held until it is.
  virtual bool answer_in_flight() const { return false; }
  // Body bytes of the answer not yet counted by the exchange but sure to go (for the log).
  virtual std::uint64_t bytes_in_flight() const { return 0; }

  // --- the machinery the kinds use ------------------------------------------------------------
  // Starts the function and its pipes; on failure completes the request and returns false.
  bool spawn_function();
  void stop_feeding_stdin();
  // Why the function is being stopped early: the deadline, or anything else (the client left,
  // shutdown, a bad CGI head).
  enum class Stop : std::uint8_t { running, killed, timed_out };
  void kill_and_abandon(std::string_view why, Stop reason = Stop::killed);
  void maybe_complete();
  void complete();
  void log_request(std::string_view status, const std::string& error);
  // The held exchange, the deadline and the process go, and the job finishes; called by
  // `complete`.
  void release();

  // The status and headers a successful answer starts with: 200 and `content_type`, or what
  // the function's CGI head asked for (fork_exchange_cgi.cpp).
  int answer_status() const;
  HeaderList answer_headers() const;

  // Monotonic time of the function's exit, once it has exited.
  std::optional<std::uint64_t> exited_ns_;
  process::ChildProcess* child_ = nullptr;
  // The function's environment, built (and checked) when the request arrives.
  std::vector<std::string> environment_;
  // Why the function never ran: its start failed, or (collecting) the deadline passed or the
  // request ended while the body was still being read.
  std::string spawn_error_;

  // The client's side: open, closed (cancelled: nothing more may be sent), or complete (the
  // request is over: answered, or given up, and logged). open -> closed -> complete, or
  // open -> complete; only `close_answer` and `complete` move it.
  enum class Answer : std::uint8_t { open, closed, complete };
  Answer answer_ = Answer::open;
  bool response_open() const { return answer_ == Answer::open; }
  bool completed() const { return answer_ == Answer::complete; }
  void close_answer();

  bool stdin_done_ = false; // no more body goes to stdin (closed, or the function left it)
  bool stdout_done_ = false;

  // RequestJob: a 413 or 431 is this request's whole answer.
  void on_refused(int status, const std::string& text) override;

private:
  // RequestJob: the deadline kills the function.
  void on_deadline() override;

  void run();
  void on_timeout();
  void on_exit(const process::ExitStatus& status);
  void on_stdin_written(int status);
  std::string failure_text() const;
  // The answer to a request refused before its function could run (the 413 for a body over
  // max_body_size, the 431 for headers that cannot become its environment, the 503 when no
  // descriptors were left for its pipes), and its log line.
  void respond_refusal(bool answer_open);

  // process::OutputSink, for stdout.
  void on_output(std::string_view data) override;
  void on_output_end(int status) override;

  std::optional<process::OutputRelay> relay_;
  // Set when the request is refused instead of served; the function never runs.
  struct Refusal {
    int status;
    std::string text;
    HeaderList extra = {}; // after Content-Type and Content-Length
  };
  std::optional<Refusal> refusal_;
  // cgi_headers (docs/cgi-headers.md): the head read from the start of stdout before any of it
  // reaches `take_output`; nothing when the option is off. fork_exchange_cgi.cpp.
  std::optional<CgiHeadReader> cgi_;
  // The output without its head, or nothing when the head is still being read or was bad.
  std::string_view past_cgi_head(std::string_view data);
  // A function that ended inside its head gets a 502 instead of its answer.
  bool refuse_unfinished_cgi_head();
  std::optional<process::ExitStatus> exit_status_;
  bool stderr_done_ = false;
  // running -> killed | timed_out; killed -> timed_out (the deadline passed while the killed
  // group was still being reaped: its text wins). Only kill_and_abandon moves it.
  Stop stop_ = Stop::running;
};

} // namespace ofwatchdog::modes
