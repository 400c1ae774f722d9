#pragma once
// The exchange an in-process handler gets: the real one plus the exec timeout and the access
// line. When the deadline passes, the handler is cancelled (CancelReason::exec_timeout) and the
// client gets a 504, or an aborted response if its head was already sent; whatever the handler
// does with the exchange afterwards is ignored.
//
// It is also the library's edge for the handler's callbacks: an exception thrown from one of
// them stops there (the handler is detached, the log says why, the client gets a 500 or an
// aborted response) instead of unwinding through libuv; and with `set_body_limit`, a body that
// passes `max_body_size` while it streams in is refused with 413 (the handler is cancelled
// with CancelReason::body_too_large).

#include <memory>
#include <string>

#include <uv.h>

#include "modes/exec_deadline.hpp"
#include "ofwatchdog/forwarding_exchange.hpp"
#include "ofwatchdog/log.hpp"

namespace ofwatchdog::modes {

class DeadlineExchange final : public ForwardingExchange,
                               public std::enable_shared_from_this<DeadlineExchange> {
public:
  DeadlineExchange(std::shared_ptr<Exchange> inner, Duration timeout, Logger& log, bool log_callid);
  ~DeadlineExchange() override;

  void send_head(ResponseHead head) override;
  bool send_body(std::string_view data) override;
  void finish() override;
  void abort() override;
  bool done() const override { return ended_ || answering_ || ForwardingExchange::done(); }

  // The 504 carries `text` as a text/plain body (mode=wasm names the timeout: wasm-interrupt) and
  // the log says `log_line` instead of the in-process handler's line. Default: an empty 504.
  void set_timeout_answer(std::string text, std::string log_line);
  // Refuses a body of more than `max_bytes` (0: no limit) as it arrives. The kernel-moved
  // request body (splice_body_to) is then refused, since every byte must be counted.
  void set_body_limit(std::uint64_t max_bytes) { body_limit_ = max_bytes; }
  bool splice_body_to(int pipe_fd, TransferDone done) override {
    return body_limit_ == 0 && ForwardingExchange::splice_body_to(pipe_fd, std::move(done));
  }

private:
  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;
  // Calls the handler; an exception ends the request here (see above).
  template <typename Call> void guarded(Call&& call);
  void handler_threw(std::string_view what);
  // The body passed the limit: the handler is cancelled and the client refused.
  void refuse_body();
  void on_deadline();
  // Logs the access line and stops the deadline, once.
  void end();

  Logger& log_;
  bool log_callid_;
  std::uint64_t started_ns_;
  ExecDeadline deadline_;
  bool ended_ = false;
  // Set while the handler hears of the timeout: what it does with the exchange then (a pool's
  // worker may finish and answer at once) is ignored, since the 504 is ours to send.
  bool answering_ = false;
  std::string timeout_text_;
  std::string timeout_log_line_;
  std::uint64_t body_limit_ = 0;
  std::uint64_t body_seen_ = 0;
};

} // namespace ofwatchdog::modes
