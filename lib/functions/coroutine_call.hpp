#pragma once
// The LoopCall a coroutine handler gets: it owns the coroutine's frame, listens to the exchange
// (ExchangeHandler), and turns the exchange's callbacks into resumptions of the coroutine.
//
// The body flows only while the coroutine awaits a read (pause_body otherwise), so at most what
// the server had already read when it was paused is held here. Cancellation resumes a waiting
// coroutine at once; the frame is destroyed when the coroutine ends, and the mode is told then.

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "functions/streaming_call.hpp"
#include "ofwatchdog/coroutine.hpp"
#include "ofwatchdog/log.hpp"

namespace ofwatchdog::functions {

class CoroutineCall final : public LoopCall,
                            private ExchangeHandler,
                            private detail::TaskOwner,
                            public std::enable_shared_from_this<CoroutineCall> {
public:
  // `ended` runs once the frame is destroyed and the response is over.
  using Ended = std::function<void(CoroutineCall&)>;

  CoroutineCall(std::shared_ptr<Exchange> exchange, Logger& log, CallSetup setup, Ended ended);
  ~CoroutineCall() override;

  // Calls `handler` and runs its coroutine to its first suspension (or its end).
  void start(const CoroutineHandler& handler);
  // Ends the call from the mode's side (the watchdog is stopping): the response is cut short
  // if it is still open, and the coroutine resumes with the cancelled result.
  void cancel(CancelReason reason);

  // LoopCall
  const Request& request() const override { return exchange_->request(); }
  std::string_view call_id() const override;
  std::optional<Duration> time_left() const override;
  std::optional<CancelReason> cancel_reason() const override { return cancel_; }
  void log(std::string_view line) override { log_.info(line); }
  bool send_head(int status, HeaderList headers,
                 std::optional<std::uint64_t> content_length) override;

private:
  // Where the response is.
  enum class Response {
    no_head,   // nothing sent: a failure is still a 500, a body too large still a 413
    head_sent, // the head is committed; the body is being written
    over,      // finished, aborted, refused or cancelled: nothing more goes out
  };
  // What the coroutine is suspended on, if it is suspended in one of ours.
  enum class Await { nothing, read, write, cancel };
  // The frame's life.
  enum class Frame { not_started, live, destroyed };
  // The request body, as far as the exchange has delivered it.
  enum class Body { open, ended };

  // LoopCall's awaitables.
  bool start_read() override;
  BodyPiece read_result() override;
  bool start_write(std::string_view data) override;
  bool write_result() override { return write_ok_; }
  bool start_cancel_wait() override;
  bool suspend(std::coroutine_handle<> frame) override;

  // ExchangeHandler
  void on_body(std::string_view data) override;
  void on_body_end() override;
  void on_writable() override;
  void on_cancel(CancelReason reason) override;

  // detail::TaskOwner
  void task_ended(std::coroutine_handle<> frame, std::exception_ptr error) noexcept override;

  // A result for a waiting read, if one is ready: the buffered bytes, the end, or cancelled.
  std::optional<BodyPiece::Status> ready_read();
  // Records that the call is cancelled and resumes the coroutine if it waits on us.
  void cancelled(CancelReason reason);
  // The coroutine's await is over (its result is set): resume it.
  void wake();
  // The 413 for a body that passed `max_body_size` while it was read.
  void refuse_body();
  // A 500 with the fixed text if nothing was sent, else the response cut short.
  void fail(std::string_view why);
  // After the frame is gone: the response ends and the mode lets go of the call.
  void end();

  std::shared_ptr<Exchange> exchange_;
  Logger& log_;
  CallSetup setup_;
  Ended ended_;

  Response response_ = Response::no_head;
  Await await_ = Await::nothing;
  Frame frame_state_ = Frame::not_started;
  std::coroutine_handle<> frame_;  // the Task's frame, which this call owns
  std::coroutine_handle<> waiter_; // the frame suspended in one of our awaits
  // True while `suspend` runs: a result that arrives then must not resume the frame from
  // inside its own await_suspend; `suspend` returns false instead.
  bool suspending_ = false;
  std::optional<CancelReason> cancel_;

  Body body_ = Body::open;
  std::uint64_t body_read_ = 0;
  std::string pending_; // arrived while no read was awaited (the server had read it already)
  std::string piece_;   // what the last read gave, kept until the next read
  BodyPiece::Status read_status_ = BodyPiece::Status::end;
  bool write_ok_ = false;
  std::optional<std::uint64_t> body_left_; // of a declared Content-Length
};

} // namespace ofwatchdog::functions
